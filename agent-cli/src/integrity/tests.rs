use super::*;

#[test]
fn below_means_below_a_whole_component() {
    assert!(is_at_or_below(b"/a/b", b"/a"));
    assert!(is_at_or_below(b"/a/b", b"/a/"));
    assert!(is_at_or_below(b"/a", b"/a"));
    assert!(!is_at_or_below(b"/ab", b"/a"));
    assert!(is_at_or_below(b"/a", b"/"));
}

#[test]
fn mib_has_one_decimal() {
    assert_eq!(mib(0), "0.0");
    assert_eq!(mib(3 << 19), "1.5");
    assert_eq!(mib(u64::MAX), "17592186044415.9");
}

# System-wide .bashrc file for interactive bash(1) shells.

# If not running interactively, don't do anything.
[ -z "${PS1-}" ] && return

# Keep the console's restrictive umask in non-login shells too
# (SSG accounts_umask_etc_bashrc).
umask 027

# Update LINES and COLUMNS after each command.
shopt -s checkwinsize

PS1='${debian_chroot:+($debian_chroot)}\u@\h:\w\$ '

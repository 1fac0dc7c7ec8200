# Idle shells end after 10 minutes (SSG accounts_tmout; IEC 62443-4-2 CR 2.6).
# Read-only so that a user cannot unset it; exported so that shells started
# from this one time out too.
TMOUT=600
readonly TMOUT
export TMOUT

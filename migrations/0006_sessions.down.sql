-- Reverses 0006: the web sessions; everyone signed in must sign in again.

SET LOCAL lock_timeout = '5s';

DROP TABLE modernize.sessions;

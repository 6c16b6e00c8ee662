-- Reverses 0005: the API tokens, and with them every token ever issued.

SET LOCAL lock_timeout = '5s';

DROP TABLE modernize.api_tokens;

DROP TRIGGER api_tokens_notify ON api_tokens;
DROP FUNCTION ioc_notify_tokens();

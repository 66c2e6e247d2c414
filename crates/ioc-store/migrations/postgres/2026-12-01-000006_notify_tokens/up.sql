-- Wakes every node that LISTENs on `ioc_tokens` when a token is created or
-- revoked, so that it reads its tokens at once (revocation reaches every node
-- and open WebSocket without waiting for the 2 s poll).
CREATE FUNCTION ioc_notify_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ioc_tokens', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_tokens_notify
    AFTER INSERT OR UPDATE OR DELETE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION ioc_notify_tokens();

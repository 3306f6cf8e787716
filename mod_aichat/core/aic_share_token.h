/* Share-link tokens. A token is HMAC-SHA-256(secret, nonce) cut to 192 bits
 * and written base64url: the nonce (128 bits from APR's random source) and
 * the token's SHA-256 are stored, the token never is. The server, holding the
 * secret, can show a link again; a copy of the database opens none. */
#ifndef AIC_SHARE_TOKEN_H
#define AIC_SHARE_TOKEN_H

#include <apr_pools.h>

/** Length of a token in characters. */
#define AIC_SHARE_TOKEN_LEN 32

/** A fresh nonce: 16 random bytes as hex, or NULL when APR has no randomness. */
const char *aic_share_nonce(apr_pool_t *p);

/** The token of nonce under secret (secret_len bytes), or NULL on failure. */
const char *aic_share_token(apr_pool_t *p, const char *secret, apr_size_t secret_len,
                            const char *nonce);

/** What is stored to find a token: its SHA-256 as hex, or NULL on failure. */
const char *aic_share_token_hash(apr_pool_t *p, const char *token);

/** 1 when s has a token's shape (AIC_SHARE_TOKEN_LEN characters of A-Z a-z 0-9 - _). */
int aic_share_token_valid(const char *s);

/** What a redacted token reads as. */
#define AIC_SHARE_TOKEN_REDACTED "{token}"

/**
 * uri (a path with its query string, as a log records it) with every share
 * token in it replaced by AIC_SHARE_TOKEN_REDACTED. A token is looked for
 * after a path segment named share, shared or shares (any case), or in the
 * whole of uri when share_location says it was served by the share handler
 * (which may be set on any path): there every run of AIC_SHARE_TOKEN_LEN or
 * more token characters that is not a UUID goes, so that a token with
 * something stuck to it (a pasted period, another token) goes too. Returns
 * uri itself when nothing was replaced, else a copy in p; NULL for NULL.
 */
const char *aic_share_token_redact(apr_pool_t *p, const char *uri, int share_location);

#endif

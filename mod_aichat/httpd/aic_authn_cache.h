/* "aichat-cache": an authentication provider that remembers, for a while,
 * that another provider (mod_authn_dbd's "dbd") accepted a user's password.
 * bcrypt is meant to be slow (tens of milliseconds), and both HTTP Basic and
 * mod_auth_form's session check the password on every request; the cache
 * keeps that to once per AIChatAuthnCache interval and process. Only a
 * salted SHA-256 of user and password is kept, in a fixed table per child
 * process; a disabled user is refused by the module whatever the cache says. */
#ifndef AIC_AUTHN_CACHE_H
#define AIC_AUTHN_CACHE_H

#include <httpd.h>
#include <http_config.h>

/** AIChatAuthnCache PROVIDER [SECONDS] */
const char *aic_authn_cache_directive(cmd_parms *cmd, void *dconf, const char *provider,
                                      const char *seconds);
/** Register the provider (register_hooks). */
void aic_authn_cache_register(apr_pool_t *p);
/** Look up the wrapped provider; fails when it does not exist. */
int aic_authn_cache_post_config(apr_pool_t *pconf, server_rec *s);
/** Allocate the child's table. */
void aic_authn_cache_child_init(apr_pool_t *pchild);

#endif

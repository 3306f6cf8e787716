/* A shared conversation as the page behind its link shows it, computed from
 * plain values (no httpd): the HTML page, its JSON variant, and the head of
 * every page the share handler writes. Everything that comes from a user is
 * escaped; messages are Markdown rendered by the Markdown door, or HTML
 * (imported Gemini answers) rewritten by the HTML door (aic_html_clean). */
#ifndef AIC_SHARE_VIEW_H
#define AIC_SHARE_VIEW_H

#include <apr_pools.h>

#include "core/aic_json.h"

/** One message of the thread, oldest first. */
typedef struct {
    const char *sender_type;  /**< "ai" for a model, anything else for a person */
    const char *sender;       /**< the model's display name (for "ai") */
    const char *content;      /**< Markdown, or HTML when content_type says so */
    const char *created_at;   /**< ISO 8601 */
    const char *notes;        /**< its notes shown, JSON [{quote, note, author}], or NULL */
    const char *content_type; /**< "text/html" for HTML; anything else (or NULL) is Markdown */
} aic_share_message;

/** What a share shows. */
typedef struct {
    const char *title;      /**< "" when the conversation has none */
    const char *tools;      /**< the models as JSON [{slug, display_name}], in their order */
    const char *shared_on;  /**< a date for people */
    const char *expires_on; /**< a date and time for people; "" = never */
    const char *created_at; /**< ISO 8601 */
    const char *expires_at; /**< ISO 8601; "" = never */
    int noindex;            /**< ask robots not to index the page */
    const aic_share_message *messages;
    int nmessages;
} aic_share_view;

/** The page's one inline style (its hash goes into the Content-Security-Policy). */
extern const char aic_share_view_css[];

/** The page's head up to its style, for title (escaped here), in p. */
const char *aic_share_view_head(apr_pool_t *p, const char *title, int noindex);

/**
 * The whole page in p: header with title, models and dates; the messages;
 * a footer whose "Continue" link goes to base_uri + "/#/fork/" + token.
 */
const char *aic_share_view_html(apr_pool_t *p, const aic_share_view *v, const char *base_uri,
                                const char *token);

/** {title, models, messages: [{role, sender, content, content_type, created_at,
 * annotations?}], created_at, expires_at}; content and content_type as stored
 * (HTML not rewritten; "text/markdown" when none); annotations: [{quote,
 * note, author}] when shown. */
aic_json *aic_share_view_json(apr_pool_t *p, const aic_share_view *v);

#endif

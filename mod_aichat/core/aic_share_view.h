/* A shared conversation as the page behind its link shows it, computed from
 * plain values (no httpd): the HTML page (a long thread a page at a time),
 * its JSON variant (the whole thread), the cut of a thread into pages, and
 * the head of every page the share handler writes. Everything that comes
 * from a user is escaped; messages are Markdown rendered by the Markdown
 * door, or HTML (imported Gemini answers) rewritten by the HTML door
 * (aic_html_clean). */
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

/** Where a page of a long thread stands in it. */
typedef struct {
    const aic_share_message *lead; /**< the thread's first message (for the description) */
    int page;                      /**< this page, from 1 */
    int pages;                     /**< how many pages the thread has */
} aic_share_view_place;

/** The message content one page shows at most, in bytes (a page shows at
 * least one message, whatever its size). */
#define AIC_SHARE_PAGE_BYTES (1024 * 1024)

/**
 * Page `page` (from 1) of a thread whose n messages, oldest first, hold
 * sizes[i] bytes of content: from the start of the thread, each page holds
 * the messages after the page before, as many as fit in budget bytes, and
 * at least one. Sets *first (from 0) and *count to the page's messages
 * (*count 0 when there is no such page) and returns how many pages there
 * are; an empty thread has one page, empty.
 */
int aic_share_view_pages(int *first, int *count, const apr_size_t *sizes, int n, apr_size_t budget,
                         int page);

/** The page's one inline style (its hash goes into the Content-Security-Policy). */
extern const char aic_share_view_css[];

/** The page's head up to its style, for title (escaped here), in p. */
const char *aic_share_view_head(apr_pool_t *p, const char *title, int noindex);

/**
 * A share page in p: header with title, models and dates; the messages
 * (v->messages); a footer whose "Continue" link goes to base_uri +
 * "/#/fork/" + token. at NULL: the whole thread on one page. Else page
 * at->page of a long thread, its messages between links to the pages before
 * and after when there are more than one (the first page is the link's own
 * address, relative: "./" + token; the others "?page=N"); the description
 * and social cards are the thread's (from at->lead), on every page.
 */
const char *aic_share_view_page(apr_pool_t *p, const aic_share_view *v,
                                const aic_share_view_place *at, const char *base_uri,
                                const char *token);

/** {title, models, messages: [{role, sender, content, content_type, created_at,
 * annotations?}], created_at, expires_at}; content and content_type as stored
 * (HTML not rewritten; "text/markdown" when none); annotations: [{quote,
 * note, author}] when shown. */
aic_json *aic_share_view_json(apr_pool_t *p, const aic_share_view *v);

#endif

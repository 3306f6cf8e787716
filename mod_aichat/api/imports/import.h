/* The imports capability: a chat export (ChatGPT, Claude, Gemini, Mistral
 * Le Chat), uploaded as a file, becomes the user's conversations in a job a
 * worker thread of any httpd process works; the library goes out as JSON,
 * Markdown or a ChatGPT-format conversations.json.
 *
 * This header is the part without httpd (built into libaichat_core, reached
 * by the unit tests and the fuzz targets): a JSON document of an export is
 * read as a stream (core/aic_jstream), its format recognised from its
 * content (aic_import.c), and each conversation turned into one plain tree
 * (aic_import_<format>.c), following docs of the formats in
 * the project's reference (providers.md §5). The httpd side (upload, job,
 * worker, export) is in imports_httpd.h. */
#ifndef AIC_API_IMPORT_H
#define AIC_API_IMPORT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>

#include "core/aic_json.h"

/* Limits of providers.md §5.7 that the document reader enforces. */
#define AIC_IMPORT_MAX_DEPTH   64
#define AIC_IMPORT_MAX_STRING  (16 * 1024 * 1024)
#define AIC_IMPORT_MAX_TEXT    (1024 * 1024)
#define AIC_IMPORT_MAX_NODES   100000
#define AIC_IMPORT_MAX_TITLE   200
#define AIC_IMPORT_MAX_DERIVED 80

typedef enum {
    AIC_IMPORT_UNKNOWN = 0,
    AIC_IMPORT_CHATGPT,
    AIC_IMPORT_CLAUDE,
    AIC_IMPORT_GEMINI,
    AIC_IMPORT_MISTRAL_CHAT,    /* an array of messages: one conversation */
    AIC_IMPORT_MISTRAL_VARIANT, /* {conversations:[{messages}], memories, projects} */
    AIC_IMPORT_GROK,            /* recognised, not importable */
    AIC_IMPORT_CHATGPT_FEEDBACK /* ChatGPT's message_feedback.json (read after the rest) */
} aic_import_format;

/** The source name a format stores ("chatgpt", ...), NULL for none. */
const char *aic_import_source(aic_import_format f);

/** The key of a ChatGPT-format message's metadata that says its text is
 * HTML ("text/html"): written by our export, read by our import. */
#define AIC_IMPORT_HTML_MARK "aichat_content_type"

/** One stored message. */
typedef struct {
    const char *ext_id;    /* the source's id, or NULL */
    int parent;            /* index of the stored parent, -1 at the root */
    int assistant;         /* 0 user, 1 assistant */
    const char *text;      /* valid UTF-8, at most AIC_IMPORT_MAX_TEXT bytes */
    apr_int64_t time;      /* µs since the epoch, 0 while unknown */
    const char *model;     /* NULL when the export does not say */
    aic_json *attachments; /* array of {id?, name?, mime_type?, size?, ...} or NULL */
    aic_json *sources;     /* array of URLs or NULL */
    aic_json *parts;       /* the non-text parts as exported (kept in metadata), or NULL */
    int truncated;
    int html; /* the text is sanitised HTML (Gemini answers), not Markdown */
    /* for the tree builder */
    const char *raw_parent; /* the source's parent id */
    int order;              /* position in the document */
} aic_import_msg;

/** One conversation, its messages parents first. */
typedef struct {
    aic_import_format format;
    const char *ext_id, *title;
    apr_int64_t created, updated; /* µs */
    apr_array_header_t *msgs;     /* aic_import_msg */
    int active;                   /* index of the active leaf */
    aic_json *skipped;            /* {reason: count} */
    aic_json *warnings;           /* {code: count} */
    apr_off_t bytes_read;         /* of the upload when it was handed on (aic_import_file_read) */
} aic_import_conv;

/** A conversation ready (c, its memory in p until the call returns). */
typedef apr_status_t (*aic_import_conv_fn)(void *baton, const aic_import_conv *c, apr_pool_t *p);
/** A conversation that could not be imported: its id and title (may be NULL), why. */
typedef void (*aic_import_reject_fn)(void *baton, const char *ext_id, const char *title,
                                     const char *code, const char *message);

typedef struct aic_import_doc aic_import_doc;

/**
 * A reader of one JSON document (a file or a ZIP member named name).
 * format AIC_IMPORT_UNKNOWN: only validate and recognise it (the first
 * pass); else read it as that format and hand on each conversation.
 */
aic_import_doc *aic_import_doc_create(apr_pool_t *p, const char *name, aic_import_format format,
                                      aic_import_conv_fn conv, aic_import_reject_fn reject,
                                      void *baton);
/** Feed bytes; APR_SUCCESS or an error that aic_import_doc_error explains (or the conv fn's). */
apr_status_t aic_import_doc_feed(aic_import_doc *d, const char *buf, apr_size_t len);
/** The end of the document. */
apr_status_t aic_import_doc_finish(aic_import_doc *d);
/**
 * ChatGPT's message feedback: records
 * [{conversation, message, rating (1 or -1), comment?, time (µs)?}], handed
 * on in batches by a document of format AIC_IMPORT_CHATGPT_FEEDBACK.
 */
typedef apr_status_t (*aic_import_feedback_fn)(void *baton, aic_json *records, apr_pool_t *p);
/** Where d hands on feedback records (a document of format AIC_IMPORT_CHATGPT_FEEDBACK). */
void aic_import_doc_on_feedback(aic_import_doc *d, aic_import_feedback_fn feedback);
/** The error code (invalid_json, invalid_utf8, limit_exceeded) and message. */
void aic_import_doc_error(const aic_import_doc *d, const char **code, const char **message);
/** The format recognised (after a first pass). */
aic_import_format aic_import_doc_format(const aic_import_doc *d);
/** Conversations the document holds as far as the first pass can tell. */
int aic_import_doc_count(const aic_import_doc *d);
/** Document-level skips {reason: count} (not_a_conversation, not_a_prompt...). */
aic_json *aic_import_doc_skipped(const aic_import_doc *d);

/* ---- shared by the format files (aic_import.c) ---- */

/** Add n to counts[key]. */
void aic_import_count(aic_json *counts, const char *key, int n);
/** A new conversation in p. */
aic_import_conv *aic_import_conv_new(apr_pool_t *p, aic_import_format f);
/** A message to fill, appended to c (raw order; aic_import_tree orders them). */
aic_import_msg *aic_import_msg_add(aic_import_conv *c);
/** Set m's text: cut to AIC_IMPORT_MAX_TEXT at a character boundary (warning counted). */
void aic_import_msg_text(aic_import_conv *c, aic_import_msg *m, const char *text, apr_size_t len);
/**
 * Order c->msgs parents first from their raw_parent ids. skipped_parent maps
 * the ids of skipped nodes to their own parent id (const char *, "" for none),
 * so that a stored node under a skipped one hangs under the nearest stored
 * ancestor. A raw parent found nowhere: root, warning orphan_node. A loop:
 * APR_EINVAL (tree_cycle). Times missing take the parent's, else created.
 * active_raw: the source's active node (may name a skipped node or be NULL);
 * without a usable one the newest leaf is active.
 */
apr_status_t aic_import_tree(aic_import_conv *c, apr_pool_t *p, apr_hash_t *skipped_parent,
                             const char *active_raw);
/** Set c->title from a given title, or derive it from the active path. */
void aic_import_title(aic_import_conv *c, apr_pool_t *p, const char *given);
/** µs since the epoch of an ISO 8601 time ("2026-01-20T14:02:11.482915Z"); 0 when not one. */
apr_int64_t aic_import_iso_time(const char *s);
/** µs of epoch seconds (a JSON number), 0 when v is not a number. */
apr_int64_t aic_import_epoch_time(const aic_json *v);
/** The string member of an object, or NULL. */
const char *aic_import_str(const aic_json *obj, const char *key, apr_pool_t *p);
/** A message's sources: http(s) URLs, each once, in the order first seen. */
typedef struct {
    aic_json *list; /* NULL until one is added */
    apr_hash_t *seen;
} aic_import_sources;
/** Add url to s when it is an http(s) URL that s does not hold yet. */
void aic_import_source_add(aic_import_sources *s, apr_pool_t *p, const char *url);

/* ---- the formats: each looks at one item of the document ---- */

/** 1 when item (an element of the top array or of key) decides the format *f. */
int aic_import_sniff(aic_import_format *f, const char *key, int member, const aic_json *item);

/** ChatGPT: one conversation object; NULL (and *reason set) when it is no conversation. */
apr_status_t aic_import_chatgpt(aic_import_conv **out, const char **reason, const char **message,
                                const aic_json *item, apr_pool_t *p);
/** Claude: one conversation object. */
apr_status_t aic_import_claude(aic_import_conv **out, const char **reason, const char **message,
                               const aic_json *item, apr_pool_t *p);
/** Mistral: one conversation from its messages (an array) with optional id, title, model,
 * created_at. */
apr_status_t aic_import_mistral(aic_import_conv **out, const char **reason, const char **message,
                                const aic_json *messages, const char *ext_id, const char *title,
                                const char *model, const char *created_at, apr_pool_t *p);

/** Gemini: the turns of a My Activity file, collected then grouped. */
typedef struct aic_import_gemini aic_import_gemini;
aic_import_gemini *aic_import_gemini_new(apr_pool_t *p);
/** Take one entry; returns a skip reason or NULL when it was a turn. */
const char *aic_import_gemini_entry(aic_import_gemini *g, const aic_json *entry, int order);
/** The conversations, one call of conv each. */
apr_status_t aic_import_gemini_finish(aic_import_gemini *g, aic_import_conv_fn conv, void *baton);

#endif

/* ---- a whole upload: one JSON file or a ZIP (aic_import_file.c) ---- */

/** One JSON document of an upload: the file itself, or a ZIP member. */
typedef struct {
    const char *name;
    int entry; /* its place in the ZIP (-1: the upload is this JSON) */
    aic_import_format format;
    int count;                  /* conversations, as far as the first pass can tell */
    const char *code, *message; /* why it cannot be imported, or NULL */
} aic_import_member;

/**
 * The first pass: every candidate document validated whole (JSON, UTF-8,
 * limits) and recognised. *members lists them (recognised or not, with
 * their errors) in name order, the order the second pass reads them in
 * whatever the ZIP's own order. Returns APR_SUCCESS, or an error of the upload itself
 * (*code: invalid_zip, unsafe_path, encrypted_zip, limit_exceeded,
 * invalid_json, invalid_utf8, unknown_format, unsupported_format) with
 * *message for a person. upload_name names a bare JSON upload (a Mistral
 * chat file's id comes from it).
 */
apr_status_t aic_import_file_scan(apr_array_header_t **members, const char **code,
                                  const char **message, apr_pool_t *p, const char *path,
                                  const char *upload_name);

/**
 * The second pass: each recognised member of members read with its format,
 * conv called for each conversation with the upload's bytes read so far
 * (its status other than APR_SUCCESS stops the reading and is returned),
 * reject for each refused one;
 * document-level skips added to skipped. Then ChatGPT's message feedback,
 * when the upload has it, goes to feedback (the conversations it names are
 * written by then).
 */
apr_status_t aic_import_file_read(apr_pool_t *p, const char *path,
                                  const apr_array_header_t *members, aic_import_conv_fn conv,
                                  aic_import_reject_fn reject, aic_import_feedback_fn feedback,
                                  void *baton, aic_json *skipped);

/** The JSON import_conversation takes (sql/functions/imports.sql). */
const char *aic_import_conv_json(const aic_import_conv *c, apr_pool_t *p);

/* ---- a multipart/form-data upload read as a stream (aic_import_multipart.c) ---- */

typedef struct aic_multipart aic_multipart;
/** Bytes of the file part; not APR_SUCCESS stops the reading. */
typedef apr_status_t (*aic_multipart_data_fn)(void *baton, const char *buf, apr_size_t len);

/**
 * A reader of a multipart/form-data body whose part named field is handed to
 * data as it arrives; NULL when content_type is not multipart/form-data with
 * a usable boundary.
 */
aic_multipart *aic_multipart_create(apr_pool_t *p, const char *content_type, const char *field,
                                    aic_multipart_data_fn data, void *baton);
/** Feed bytes of the body: APR_SUCCESS, the data function's error, or APR_EINVAL. */
apr_status_t aic_multipart_feed(aic_multipart *m, const char *buf, apr_size_t len);
/** The end of the body: APR_EINVAL when it was truncated or had no file part. */
apr_status_t aic_multipart_finish(aic_multipart *m);
/** Why the body was refused: invalid_multipart or missing_file, and a message. */
void aic_multipart_error(const aic_multipart *m, const char **code, const char **message);
/** The file name the file part gave, or NULL. */
const char *aic_multipart_filename(const aic_multipart *m);

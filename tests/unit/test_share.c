/* Unit tests for the sharing core: HMAC-SHA-256, share-link tokens, the
 * Markdown door (what reaches a share page), the share page and its JSON
 * (aic_share_view), the cut of a long thread into pages, and RFC 3339
 * timestamps. */
#include "unit_helpers.h"

#include <apr_strings.h>

#include <string.h>
#include <apr_strings.h>

#include "core/aic_digest.h"
#include "core/aic_ids.h"
#include "core/aic_markdown.h"
#include "core/aic_share_token.h"
#include "core/aic_share_view.h"
#include "core/aic_valid.h"

static const char secret[] = "0123456789abcdef0123456789abcdef";

static void test_hmac_known_vector(void **state)
{
    unsigned char out[AIC_SHA256_LEN];
    static const char key[] = "Jefe", data[] = "what do ya want for nothing?";

    /* RFC 4231, test case 2. */
    assert_int_equal(aic_hmac_sha256(out, key, 4, data, strlen(data)), APR_SUCCESS);
    assert_string_equal(aic_hex_encode(*state, (const char *)out, sizeof(out)),
                        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_token_shape_and_determinism(void **state)
{
    apr_pool_t *p = *state;
    const char *nonce = aic_share_nonce(p);
    const char *a, *b;

    assert_non_null(nonce);
    assert_int_equal(strlen(nonce), 32);
    a = aic_share_token(p, secret, strlen(secret), nonce);
    b = aic_share_token(p, secret, strlen(secret), nonce);
    assert_non_null(a);
    assert_int_equal(strlen(a), AIC_SHARE_TOKEN_LEN);
    assert_true(aic_share_token_valid(a));
    /* The server shows the same link again from the stored nonce. */
    assert_string_equal(a, b);
}

static void test_token_depends_on_secret_and_nonce(void **state)
{
    apr_pool_t *p = *state;
    const char *nonce = aic_share_nonce(p), *other = aic_share_nonce(p);
    const char *t = aic_share_token(p, secret, strlen(secret), nonce);

    assert_string_not_equal(nonce, other);
    assert_string_not_equal(t, aic_share_token(p, secret, strlen(secret), other));
    assert_string_not_equal(t, aic_share_token(p, "another secret, 32 bytes long...", 32, nonce));
    /* Without a secret there is no token. */
    assert_null(aic_share_token(p, NULL, 0, nonce));
    assert_null(aic_share_token(p, secret, 0, nonce));
}

static void test_token_hash(void **state)
{
    apr_pool_t *p = *state;
    const char *token = aic_share_token(p, secret, strlen(secret), aic_share_nonce(p));
    const char *hash = aic_share_token_hash(p, token);
    unsigned char sum[AIC_SHA256_LEN];
    apr_size_t len = strlen(token);

    assert_int_equal(aic_sha256(sum, 1, (const void *const[]){token}, &len), APR_SUCCESS);
    assert_string_equal(hash, aic_hex_encode(p, (const char *)sum, sizeof(sum)));
    assert_int_equal(strlen(hash), 64);
    assert_null(strstr(hash, token));
}

static void test_token_valid(void **state)
{
    (void)state;
    assert_true(aic_share_token_valid("rQ-AXGItDKFABWl_StUUDTdPp15cP0En"));
    assert_false(aic_share_token_valid("rQ-AXGItDKFABWl_StUUDTdPp15cP0E"));   /* 31 */
    assert_false(aic_share_token_valid("rQ-AXGItDKFABWl_StUUDTdPp15cP0Enn")); /* 33 */
    assert_false(aic_share_token_valid("rQ+AXGItDKFABWl/StUUDTdPp15cP0En"));  /* base64, not url */
    assert_false(aic_share_token_valid("rQ-AXGItDKFABWl_StUUDTdPp15cP0E="));
    assert_false(aic_share_token_valid("../../../../../../../etc/passwd"));
    assert_false(aic_share_token_valid(""));
    assert_false(aic_share_token_valid(NULL));
}

static void test_markdown_gfm(void **state)
{
    apr_pool_t *p = *state;
    const char *html = aic_markdown_html(p, "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
                                            "```c\nint x;\n```\n\n~~old~~ see https://example.org");

    assert_non_null(strstr(html, "<table>"));
    assert_non_null(strstr(html, "<td>1</td>"));
    assert_non_null(strstr(html, "<pre><code class=\"language-c\">int x;\n</code></pre>"));
    assert_non_null(strstr(html, "<del>old</del>"));
    assert_non_null(strstr(html, "<a href=\"https://example.org\">https://example.org</a>"));
}

/* head + unit repeated to just over AIC_MARKDOWN_MAX_BYTES. */
static const char *repeated(apr_pool_t *p, const char *head, const char *unit)
{
    apr_size_t hl = strlen(head), ul = strlen(unit), n = (AIC_MARKDOWN_MAX_BYTES - hl) / ul + 1;
    char *s = apr_palloc(p, hl + n * ul + 1), *w = s;

    memcpy(w, head, hl);
    w += hl;
    for (apr_size_t i = 0; i < n; i++, w += ul) {
        memcpy(w, unit, ul);
    }
    *w = '\0';
    return s;
}

/* The inputs published with cmark-gfm's fixes of polynomial time (0.29.0.gfm.7
 * to .13; bench/markdown measures them against the installed library). Over
 * the size limit they are not parsed (one of them makes 0.29.0.gfm.6 abort
 * the process): they come back escaped, as written. */
static void test_markdown_pathological_inputs(void **state)
{
    apr_pool_t *p = *state;
    static const char *const inputs[][3] = {
        /* head, repeated unit, text the escaped output holds */
        {"", "![[]()", "![[]()![[]()"},                 /* CVE-2023-22486 */
        {"</", "<!--", "&lt;/&lt;!--&lt;!--"},          /* CVE-2023-22484 */
        {"-1", "<?x", "-1&lt;?x&lt;?x"},                /* CVE-2023-22483 */
        {"", "|-\nt>|-\n", "|-\nt&gt;|-\n|-"},          /* CVE-2023-22483, tables */
        {"", "*t _t*_ ", "*t _t*_ *t"},                 /* CVE-2023-22483 */
        {"x\n| - |\n", "|", "x\n| - |\n||"},            /* CVE-2023-22483, tables */
        {"", "z_www.", "z_www.z_www."},                 /* CVE-2023-22483, autolink */
        {"[f]:u\n\"\n", "[f]\n", "[f]:u\n&quot;\n[f]"}, /* CVE-2023-22483: aborts */
        {"www.", ")", "www.))"},                        /* CVE-2023-22483, autolink */
        {":-\n", ":\n", ":-\n:\n:"},                    /* CVE-2023-22483, tables */
        {"", "<http://s", "&lt;http://s&lt;http://s"},  /* CVE-2023-22483, autolink */
        {"~e", ",z~~", "~e,z~~,z~~"},                   /* CVE-2023-22483, strikethrough */
        {"", ">", "&gt;&gt;&gt;"},                      /* CVE-2023-22483, CVE-2023-24824 */
        {"", " -", " - -"},                             /* CVE-2023-24824 */
        {"", "_", "___"},                               /* CVE-2023-26485 */
        {"1.\n", " 2.\n", "1.\n 2.\n 2."},              /* CVE-2023-26485 */
        {"", " -\n", " -\n -\n"},                       /* CVE-2023-26485 */
        {"|", "x|", "|x|x|"},                           /* CVE-2023-37463, tables */
    };

    for (apr_size_t i = 0; i < sizeof(inputs) / sizeof(*inputs); i++) {
        const char *md = repeated(p, inputs[i][0], inputs[i][1]);
        const char *html = aic_markdown_html(p, md);

        assert_true(strlen(md) > AIC_MARKDOWN_MAX_BYTES);
        assert_non_null(html);
        /* The guard fired: the text as written, escaped, and nothing parsed. */
        assert_memory_equal(html, "<pre class=\"plain\">", 19);
        assert_non_null(strstr(html, inputs[i][2]));
        assert_null(strstr(html, "<a "));
        assert_null(strstr(html, "<table"));
        assert_null(strstr(html, "<blockquote"));
        assert_null(strstr(html + 1, "<p"));
        assert_true(strlen(aic_markdown_text(p, md, 64)) <= 64);
    }
    /* A table as wide as GHSA-w4qg-3vf7-m9x5's, under the size limit. */
    {
        const char *all = repeated(p, "|", "x|x|x|x|x|x|x|x|x|x|");
        const char *wide = apr_pstrcat(p, all + strlen(all) - 401, "\n", NULL);
        const char *html = aic_markdown_html(p, wide);

        assert_true(strlen(wide) < AIC_MARKDOWN_MAX_BYTES);
        assert_memory_equal(html, "<pre class=\"plain\">", 19);
        assert_null(strstr(html, "<table"));
    }
    /* Hostile HTML in long text stays escaped. */
    assert_null(
        strstr(aic_markdown_html(p, repeated(p, "<script>alert(1)</script>", "a ")), "<script"));
    /* At the limit, Markdown is still Markdown. */
    {
        char *at_limit = apr_palloc(p, AIC_MARKDOWN_MAX_BYTES + 1);

        memset(at_limit, 'a', AIC_MARKDOWN_MAX_BYTES);
        memcpy(at_limit, "**bold** ", 9);
        at_limit[AIC_MARKDOWN_MAX_BYTES] = '\0';
        assert_non_null(strstr(aic_markdown_html(p, at_limit), "<p><strong>bold</strong> aaa"));
    }
    /* A long answer made of ordinary blocks is Markdown throughout, in pieces
     * split between blocks: a fenced code block with blank lines inside stays
     * one block; only a single block over the limit is shown escaped. */
    {
        const char *para = "Some **bold** text and `code` in a paragraph of a long answer.\n\n";
        const char *code = "```c\nint a;\n\nint b;\n```\n\n";
        const char *md = "", *html;
        char *huge = apr_palloc(p, AIC_MARKDOWN_MAX_BYTES + 2);
        int paras = 0, codes = 0;

        while (strlen(md) < 5 * AIC_MARKDOWN_MAX_BYTES) {
            md = apr_pstrcat(p, md, para, para, para, code, NULL);
        }
        html = aic_markdown_html(p, md);
        assert_null(strstr(html, "<pre class=\"plain\">"));
        for (const char *at = html; (at = strstr(at, "<p>Some <strong>bold</strong>")); at++) {
            paras++;
        }
        for (const char *at = html; (at = strstr(at, "int a;\n\nint b;\n</code></pre>")); at++) {
            codes++;
        }
        assert_int_equal(paras, 3 * codes);
        assert_true(codes * (3 * strlen(para) + strlen(code)) == strlen(md));

        memset(huge, 'a', AIC_MARKDOWN_MAX_BYTES + 1);
        huge[AIC_MARKDOWN_MAX_BYTES + 1] = '\0';
        html = aic_markdown_html(p, apr_pstrcat(p, para, huge, "\n\n", para, NULL));
        assert_non_null(strstr(html, "<pre class=\"plain\">aaa"));
        assert_non_null(strstr(html, "<p>Some <strong>bold</strong>"));
    }
    /* A table of AIC_MARKDOWN_MAX_PIPES - 1 columns is still a table. */
    {
        const char *row = "|a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v|w|x|y|z|0|1|2|3|4|5";
        const char *rule = "|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-";
        const char *md = apr_pstrcat(p, row, row + 1, "|\n", rule, rule + 1, "|\n", NULL);

        assert_non_null(strstr(aic_markdown_html(p, md), "<table>"));
    }
}

static void test_markdown_hostile(void **state)
{
    apr_pool_t *p = *state;
    static const char *const inputs[] = {
        "<script>alert(1)</script>",
        "text <img src=x onerror=alert(1)> more",
        "<svg onload=alert(1)><circle/></svg>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html,<script>alert(1)</script>)",
        "![x](javascript:alert(1))",
        "<a href=\"javascript:alert(1)\">x</a>",
        "</title><script>alert(1)</script>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "`<b>` and **<i onclick=alert(1)>bold</i>**",
    };

    for (apr_size_t i = 0; i < sizeof(inputs) / sizeof(*inputs); i++) {
        const char *html = aic_markdown_html(p, inputs[i]);

        assert_non_null(html);
        assert_null(strstr(html, "<script"));
        assert_null(strstr(html, "<img src=\"x\""));
        assert_null(strstr(html, "<svg"));
        assert_null(strstr(html, "<iframe"));
        assert_null(strstr(html, "onerror="));
        assert_null(strstr(html, "onload="));
        assert_null(strstr(html, "<i onclick"));
        assert_null(strstr(html, "href=\"javascript"));
        assert_null(strstr(html, "href=\"JaVaScRiPt"));
        assert_null(strstr(html, "src=\"javascript"));
        assert_null(strstr(html, "href=\"data:text/html"));
        assert_null(strstr(html, "</title>"));
    }
    /* Code spans keep the text, escaped. */
    assert_non_null(strstr(aic_markdown_html(p, "`<b>`"), "<code>&lt;b&gt;</code>"));
}

static void test_markdown_text(void **state)
{
    apr_pool_t *p = *state;
    const char *t;

    assert_string_equal(aic_markdown_text(p, "# Title\n\nSome **bold**\n\n- one\n- two", 200),
                        "Title Some bold - one - two");
    assert_string_equal(aic_markdown_text(p, "", 200), "");
    t = aic_markdown_text(p, "abcdefghij", 8);
    assert_string_equal(t, "abcde\xE2\x80\xA6");
    /* "é" is two bytes: never cut in the middle of it. */
    t = aic_markdown_text(p, "ab\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 8);
    assert_string_equal(t, "ab\xC3\xA9\xE2\x80\xA6");
}

static const aic_share_message hostile_messages[] = {
    {"user", NULL, "Is <script>alert(1)</script> **safe**?", "2026-12-01T10:00:00Z", NULL,
     "text/markdown"},
    {"ai", "Bot <img src=x onerror=alert(1)>", "Yes: `<b>`", "2026-12-01T10:00:01Z", NULL,
     "text/markdown"},
};

static const aic_share_view hostile_view = {"Plans <script>x</script> & \"quotes\"",
                                            "[{\"slug\":\"m\",\"display_name\":\"M<i>\"}]",
                                            "2026-12-01",
                                            "",
                                            "2026-12-01T10:00:00Z",
                                            "",
                                            1,
                                            hostile_messages,
                                            2};

static void test_share_view_html_escapes(void **state)
{
    apr_pool_t *p = *state;
    const char *html = aic_share_view_page(p, &hostile_view, NULL, "/chat\"x", "TOKEN");

    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<i>"));
    assert_null(strstr(html, "/chat\"x"));
    assert_non_null(strstr(html, "<title>Plans &lt;script&gt;x&lt;/script&gt; &amp; &quot;"));
    assert_non_null(strstr(html, "With M&lt;i&gt; · Shared 2026-12-01</p>"));
    assert_non_null(strstr(html, "<strong>safe</strong>"));
    assert_non_null(strstr(html, "<code>&lt;b&gt;</code>"));
    assert_non_null(strstr(html, "href=\"/chat&quot;x/#/fork/TOKEN\""));
    assert_non_null(strstr(html, "<meta name=\"robots\" content=\"noindex, nofollow\">"));
    /* No expiry: the header says nothing about one. */
    assert_null(strstr(html, "Expires"));
}

static void test_share_view_notes_escaped(void **state)
{
    apr_pool_t *p = *state;
    aic_share_message msgs[] = {
        {"ai", "Bot", "Plain answer", "2026-12-01T10:00:01Z",
         "[{\"quote\":\"<b>q</b>\",\"note\":\"<script>n</script>\",\"author\":\"A&B\"}]",
         "text/markdown"},
        {"user", NULL, "no notes", "2026-12-01T10:00:02Z", NULL, "text/markdown"}};
    aic_share_view v = {"T", "[]", "2026-12-01", "", "2026-12-01T10:00:00Z", "", 1, msgs, 2};
    const char *html = aic_share_view_page(p, &v, NULL, "/chat", "T");
    const char *json = aic_json_dump(aic_share_view_json(p, &v), p);

    assert_null(strstr(html, "<script>n"));
    assert_null(strstr(html, "<b>q"));
    assert_non_null(strstr(html,
                           "<aside class=\"notes\"><h3>Notes</h3><ul><li><blockquote>"
                           "&lt;b&gt;q&lt;/b&gt;</blockquote><p>&lt;script&gt;n&lt;/script&gt;"
                           " <span class=\"note-by\">— A&amp;B</span></p></li></ul></aside>"));
    /* One aside: the message without notes has none. */
    assert_null(strstr(strstr(html, "</aside>"), "<aside"));
    assert_non_null(strstr(json, "\"annotations\":[{\"quote\":\"<b>q</b>\""));
}

static void test_share_view_html_plain(void **state)
{
    apr_pool_t *p = *state;
    aic_share_view v = {"",
                        "[]",
                        "2026-12-01",
                        "2026-12-31 10:00 \"UTC\"",
                        "2026-12-01T10:00:00Z",
                        "2026-12-31T10:00:00Z",
                        0,
                        NULL,
                        0};
    const char *html = aic_share_view_page(p, &v, NULL, "/chat", "T");

    assert_non_null(strstr(html, "<title>Shared conversation</title>"));
    assert_null(strstr(html, "robots"));
    assert_null(strstr(html, "With "));
    assert_non_null(strstr(html, " · Expires 2026-12-31 10:00 &quot;UTC&quot;</p>"));
    assert_non_null(strstr(html, "<meta name=\"description\" content=\"\">"));
}

static void test_share_view_json(void **state)
{
    apr_pool_t *p = *state;
    const char *text = aic_json_dump(aic_share_view_json(p, &hostile_view), p);
    aic_json *v = aic_json_from(p, text), *msgs = aic_json_get(v, "messages");

    assert_non_null(v);
    assert_string_equal(aic_json_str(aic_json_get(v, "title"), p), hostile_view.title);
    assert_int_equal(aic_json_len(aic_json_get(v, "models")), 1);
    assert_int_equal(aic_json_len(msgs), 2);
    assert_string_equal(aic_json_str(aic_json_get(aic_json_at(msgs, 0), "role"), p), "user");
    assert_string_equal(aic_json_str(aic_json_get(aic_json_at(msgs, 1), "role"), p), "ai");
    assert_string_equal(aic_json_str(aic_json_get(aic_json_at(msgs, 1), "sender"), p),
                        "Bot <img src=x onerror=alert(1)>");
    assert_string_equal(aic_json_str(aic_json_get(v, "created_at"), p), "2026-12-01T10:00:00Z");
    assert_int_equal(aic_json_typeof(aic_json_get(v, "expires_at")), AIC_JSON_NULL);
}

/* Page `page` of sizes cut with budget: "first+count/pages". */
static const char *pages_of(apr_pool_t *p, const apr_size_t *sizes, int n, apr_size_t budget,
                            int page)
{
    int first = -1, count = -1,
        pages = aic_share_view_pages(&first, &count, sizes, n, budget, page);

    return apr_psprintf(p, "%d+%d/%d", first, count, pages);
}

static void test_share_view_pages(void **state)
{
    apr_pool_t *p = *state;
    const apr_size_t even[] = {3, 3, 3, 3};
    const apr_size_t big[] = {4, 20, 1, 10, 0};
    const apr_size_t exact[] = {10, 0, 5};
    const apr_size_t huge[] = {APR_SIZE_MAX / 2, APR_SIZE_MAX / 2 + 10, 1};
    apr_size_t sizes[500];
    unsigned seed = 7;
    int next = 0, pages;

    /* As many as fit in the budget, from the start. */
    assert_string_equal(pages_of(p, even, 4, 10, 1), "0+3/2");
    assert_string_equal(pages_of(p, even, 4, 10, 2), "3+1/2");
    /* A message over the budget is a page of its own; the next starts after it. */
    assert_string_equal(pages_of(p, big, 5, 10, 1), "0+1/4");
    assert_string_equal(pages_of(p, big, 5, 10, 2), "1+1/4");
    assert_string_equal(pages_of(p, big, 5, 10, 3), "2+1/4");
    assert_string_equal(pages_of(p, big, 5, 10, 4), "3+2/4");
    /* Up to the budget exactly, empty messages included. */
    assert_string_equal(pages_of(p, exact, 3, 10, 1), "0+2/2");
    assert_string_equal(pages_of(p, exact, 3, 10, 2), "2+1/2");
    /* No such page: nothing, and the count of pages. */
    assert_string_equal(pages_of(p, even, 4, 10, 3), "0+0/2");
    assert_string_equal(pages_of(p, even, 4, 10, 0), "0+0/2");
    assert_string_equal(pages_of(p, even, 4, 10, -1), "0+0/2");
    /* An empty thread has one page, empty. */
    assert_string_equal(pages_of(p, NULL, 0, 10, 1), "0+0/1");
    assert_string_equal(pages_of(p, NULL, 0, 10, 2), "0+0/1");
    /* Sizes near the top of size_t do not wrap around. */
    assert_string_equal(pages_of(p, huge, 3, 10, 2), "1+1/3");
    assert_string_equal(pages_of(p, huge, 3, 10, 3), "2+1/3");

    /* Every message on exactly one page, in order; each page within the
     * budget unless it holds one message. */
    for (int i = 0; i < 500; i++) {
        seed = seed * 1103515245u + 12345u;
        sizes[i] = (seed >> 16) % (i % 7 ? 300 : 3000);
    }
    pages = aic_share_view_pages(&(int){0}, &(int){0}, sizes, 500, 1000, 1);
    assert_true(pages > 1);
    for (int page = 1; page <= pages; page++) {
        int first, count;
        apr_size_t bytes = 0;

        assert_int_equal(aic_share_view_pages(&first, &count, sizes, 500, 1000, page), pages);
        assert_int_equal(first, next);
        assert_true(count >= 1);
        for (int i = first; i < first + count; i++) {
            bytes += sizes[i];
        }
        assert_true(count == 1 || bytes <= 1000);
        /* The page could not have taken the next message too. */
        if (first + count < 500) {
            assert_true(bytes + sizes[first + count] > 1000);
        }
        next = first + count;
    }
    assert_int_equal(next, 500);
}

static void test_share_view_page_links(void **state)
{
    apr_pool_t *p = *state;
    aic_share_message lead = {"user", NULL, "First *words*", "2026-12-01T10:00:00Z", NULL, NULL};
    aic_share_message msgs[] = {{"ai", "Bot", "Middle answer", "2026-12-01T10:00:01Z", NULL, NULL}};
    aic_share_view v = {"T", "[]", "2026-12-01", "", "2026-12-01T10:00:00Z", "", 0, msgs, 1};
    aic_share_view_place at = {&lead, 2, 3};
    const char *html = aic_share_view_page(p, &v, &at, "/chat", "TOK");
    const char *nav = "<nav class=\"pages\"><a rel=\"prev\" href=\"./TOK\">Earlier messages</a>"
                      "<span>Page 2 of 3</span><a rel=\"next\" href=\"?page=3\">Later "
                      "messages</a></nav>\n";
    const char *body = strstr(html, "<main>");

    /* The description is the thread's first message, which this page does not show. */
    assert_non_null(strstr(html, "<meta name=\"description\" content=\"First words\">"));
    assert_non_null(strstr(html, "<meta property=\"og:description\" content=\"First words\">"));
    assert_null(strstr(html, "<em>words</em>"));
    assert_non_null(strstr(html, "<p>Middle answer</p>"));
    /* The links before and after the messages; the head as on every page. */
    assert_non_null(body);
    assert_ptr_equal(strstr(html, nav), body + strlen("<main>\n"));
    assert_non_null(strstr(html, apr_pstrcat(p, "</article>\n", nav, "</main>", NULL)));
    assert_non_null(strstr(html, "<h1>T</h1>"));

    at.page = 1;
    html = aic_share_view_page(p, &v, &at, "/chat", "TOK");
    assert_non_null(strstr(html, "<nav class=\"pages\"><span>Page 1 of 3</span><a rel=\"next\" "
                                 "href=\"?page=2\">Later messages</a></nav>"));
    assert_null(strstr(html, "Earlier"));
    at.page = 3;
    html = aic_share_view_page(p, &v, &at, "/chat", "TOK");
    assert_non_null(strstr(html, "<nav class=\"pages\"><a rel=\"prev\" href=\"?page=2\">Earlier "
                                 "messages</a><span>Page 3 of 3</span></nav>"));
    assert_null(strstr(html, "Later"));
    /* One page, or the whole thread: no links. */
    at.page = 1;
    at.pages = 1;
    assert_null(strstr(aic_share_view_page(p, &v, &at, "/chat", "TOK"), "<nav"));
    html = aic_share_view_page(p, &v, NULL, "/chat", "TOK");
    assert_null(strstr(html, "<nav"));
    assert_non_null(strstr(html, "<meta name=\"description\" content=\"Middle answer\">"));
    /* A token is escaped in the link to the first page. */
    at.page = 2;
    at.pages = 2;
    html = aic_share_view_page(p, &v, &at, "/chat", "<x\"y>");
    assert_non_null(strstr(html, "href=\"./&lt;x&quot;y&gt;\">Earlier messages"));
}

static void test_timestamps(void **state)
{
    (void)state;
    assert_true(aic_valid_timestamp("2026-12-01T10:00:00Z"));
    assert_true(aic_valid_timestamp("2026-12-01T10:00:00.123456Z"));
    assert_true(aic_valid_timestamp("2026-12-01t23:59:59+02:00"));
    assert_true(aic_valid_timestamp("2028-02-29T00:00:00-11:30"));
    assert_false(aic_valid_timestamp("2026-12-01T10:00:00"));  /* no offset */
    assert_false(aic_valid_timestamp("2026-12-01 10:00:00Z")); /* space */
    assert_false(aic_valid_timestamp("2026-02-30T10:00:00Z")); /* no such day */
    assert_false(aic_valid_timestamp("2026-12-01T24:00:00Z"));
    assert_false(aic_valid_timestamp("2026-12-01T10:60:00Z"));
    assert_false(aic_valid_timestamp("2026-12-01T10:00:00.Z"));
    assert_false(aic_valid_timestamp("2026-12-01T10:00:00+2:00"));
    assert_false(aic_valid_timestamp("2026-12-01T10:00:00Z; DROP TABLE x"));
    assert_false(aic_valid_timestamp("tomorrow"));
    assert_false(aic_valid_timestamp(NULL));
}

static void test_token_redact(void **state)
{
    apr_pool_t *p = *state;
    const char *t = aic_share_token(p, secret, strlen(secret), aic_share_nonce(p));
    const char *uuid = "0b6a1c1e-2f4d-4c55-9a57-55d7b0c0f001";
    const char *mine = "/chat/api/v1/shares";
    struct {
        const char *uri, *want;
        int share_location;
    } cases[] = {
        {apr_pstrcat(p, "/share/", t, NULL), "/share/{token}", 0},
        {apr_pstrcat(p, "/share/", t, "/", NULL), "/share/{token}/", 0},
        {apr_pstrcat(p, "/share/", t, "?a=1&b=", t, NULL), "/share/{token}?a=1&b={token}", 0},
        {apr_pstrcat(p, "/chat/shared/", t, NULL), "/chat/shared/{token}", 0},
        {apr_pstrcat(p, "/chat/share/", t, NULL), "/chat/share/{token}", 0},
        {apr_pstrcat(p, "/chat/api/v1/shares/", t, "/fork", NULL),
         "/chat/api/v1/shares/{token}/fork", 0},
        {apr_pstrcat(p, "/chat/api/v1/SHARES/", t, NULL), "/chat/api/v1/SHARES/{token}", 0},
        /* Something stuck to a token (a pasted period, more characters). */
        {apr_pstrcat(p, "/share/", t, ".", NULL), "/share/{token}.", 0},
        {apr_pstrcat(p, "/share/x/", t, t, "abc", NULL), "/share/x/{token}", 0},
        /* Wherever the share handler serves, the whole URI is looked at. */
        {apr_pstrcat(p, "/s/", t, NULL), "/s/{token}", 1},
        {apr_pstrcat(p, "/s/", t, NULL), apr_pstrcat(p, "/s/", t, NULL), 0},
        /* UUIDs, short words and other paths stay. */
        {apr_pstrcat(p, "/chat/api/v1/admin/shares/", uuid, NULL),
         apr_pstrcat(p, "/chat/api/v1/admin/shares/", uuid, NULL), 0},
        {apr_pstrcat(p, "/chat/api/v1/conversations/", uuid, "/share", NULL),
         apr_pstrcat(p, "/chat/api/v1/conversations/", uuid, "/share", NULL), 0},
        {mine, mine, 0},
        {"/share/short-token", "/share/short-token", 0},
        {apr_pstrcat(p, "/chat/api/v1/sharex/", t, NULL),
         apr_pstrcat(p, "/chat/api/v1/sharex/", t, NULL), 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(aic_share_token_redact(p, cases[i].uri, cases[i].share_location),
                            cases[i].want);
    }
    /* Nothing replaced: the same string back. */
    assert_ptr_equal(aic_share_token_redact(p, mine, 0), mine);
    assert_null(aic_share_token_redact(p, NULL, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_hmac_known_vector),
        POOL_TEST(test_token_shape_and_determinism),
        POOL_TEST(test_token_depends_on_secret_and_nonce),
        POOL_TEST(test_token_hash),
        POOL_TEST(test_token_valid),
        POOL_TEST(test_token_redact),
        POOL_TEST(test_markdown_gfm),
        POOL_TEST(test_markdown_hostile),
        POOL_TEST(test_markdown_pathological_inputs),
        POOL_TEST(test_markdown_text),
        POOL_TEST(test_share_view_html_escapes),
        POOL_TEST(test_share_view_html_plain),
        POOL_TEST(test_share_view_notes_escaped),
        POOL_TEST(test_share_view_json),
        POOL_TEST(test_share_view_pages),
        POOL_TEST(test_share_view_page_links),
        POOL_TEST(test_timestamps),
    };

    aic_markdown_init();
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

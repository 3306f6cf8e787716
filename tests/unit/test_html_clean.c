/* Unit tests for the HTML door (core/aic_html_clean): imported HTML (Gemini
 * answers) parsed by libxml2 and written again with an allowlist, and the
 * share page that shows such answers (aic_share_view). */
#include "unit_helpers.h"

#include <apr_strings.h>
#include <string.h>

#include "core/aic_html_clean.h"
#include "core/aic_markdown.h"
#include "core/aic_share_view.h"

static const char *clean(apr_pool_t *p, const char *html)
{
    return aic_html_clean(p, html, strlen(html));
}

/* How many times needle occurs in s. */
static int count(const char *s, const char *needle)
{
    int n = 0;

    for (s = strstr(s, needle); s; s = strstr(s + 1, needle)) {
        n++;
    }
    return n;
}

static void test_allowlisted_markup_kept(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(clean(p, "<p>Hello <b>x</b></p><ul><li>a</li></ul>"),
                        "<p>Hello <b>x</b></p><ul><li>a</li></ul>");
    assert_string_equal(
        clean(p, "<h1>T</h1><h6>t</h6><blockquote><p><em>q</em> <i>i</i> "
                 "<u>u</u> <s>s</s> <del>d</del> x<sup>2</sup>"
                 "<sub>0</sub></p></blockquote>"),
        "<h1>T</h1><h6>t</h6><blockquote><p><em>q</em> <i>i</i> "
        "<u>u</u> <s>s</s> <del>d</del> x<sup>2</sup><sub>0</sub></p></blockquote>");
    assert_string_equal(clean(p, "<table><thead><tr><th>A</th></tr></thead><tbody><tr><td>1</td>"
                                 "</tr></tbody></table>"),
                        "<table><thead><tr><th>A</th></tr></thead><tbody><tr><td>1</td></tr>"
                        "</tbody></table>");
    assert_string_equal(clean(p, "<pre><code>int x = 1 &lt; 2;</code></pre><p>a<br>b</p><hr>"
                                 "<ol><li><strong>s</strong></li></ol><div><span>d</span></div>"),
                        "<pre><code>int x = 1 &lt; 2;</code></pre><p>a<br>b</p><hr>"
                        "<ol><li><strong>s</strong></li></ol><div><span>d</span></div>");
    /* Blank text between inline elements stays. */
    assert_string_equal(clean(p, "<p><b>a</b> <i>b</i></p>"), "<p><b>a</b> <i>b</i></p>");
}

static void test_code_and_embeds_dropped_with_content(void **state)
{
    apr_pool_t *p = *state;
    static const char *const hostile[] = {
        "<script>alert(1)</script>",
        "<style>p{color:red}</style>",
        "<iframe src=\"https://x\">inner</iframe>",
        "<object data=x>obj</object>",
        "<embed src=x>",
        "<template><p>tpl</p></template>",
        "<svg><script>alert(2)</script><text>svgtext</text></svg>",
        "<math><mi>mathtext</mi></math>",
        "<noscript>nos</noscript>",
        "<textarea><b>ta</b></textarea>",
        "<select><option>opt</option></select>",
        "<title>ttl</title>",
        "<SCRIPT SRC=//x></SCRIPT>",
        "<img src=x onerror=alert(4)>",
    };

    for (apr_size_t i = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
        const char *out =
            clean(p, apr_pstrcat(p, "<p>before</p>", hostile[i], "<p>after</p>", NULL));

        assert_non_null(strstr(out, "<p>before</p>"));
        assert_non_null(strstr(out, "<p>after</p>"));
        assert_null(strstr(out, "<script"));
        assert_null(strstr(out, "alert"));
        assert_null(strstr(out, "<style"));
        assert_null(strstr(out, "color:red"));
        assert_null(strstr(out, "inner"));
        assert_null(strstr(out, "<iframe"));
        assert_null(strstr(out, "obj"));
        assert_null(strstr(out, "<embed"));
        assert_null(strstr(out, "tpl"));
        assert_null(strstr(out, "svgtext"));
        assert_null(strstr(out, "mathtext"));
        assert_null(strstr(out, "nos"));
        assert_null(strstr(out, "ta"));
        assert_null(strstr(out, "opt"));
        assert_null(strstr(out, "ttl"));
    }
    /* What is left of a broken tag is text. */
    assert_string_equal(clean(p, "<p>a<scr<script>ipt>alert(3)</script></p>"),
                        "<p>aipt&gt;alert(3)</p>");
    /* embed has no content: what follows it stays. */
    assert_string_equal(clean(p, "<p>a</p><embed src=x><p>b</p>"), "<p>a</p><p>b</p>");
    /* Comments, processing instructions and doctypes go too. */
    assert_string_equal(clean(p, "<!DOCTYPE html><!-- <p>c</p> --><?php x ?><p>t</p>"), "<p>t</p>");
}

static void test_attributes_dropped(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(clean(p, "<p onclick=\"alert(1)\" style=\"color:red\" class=\"c\" "
                                 "id=\"i\" title=\"t\">x</p>"),
                        "<p>x</p>");
    assert_string_equal(clean(p, "<p>a<img src=x onerror=alert(1)>b</p>"), "<p>ab</p>");
    assert_string_equal(clean(p, "<div onmouseover='alert(1)'><b onfocus=x tabindex=1>b</b></div>"),
                        "<div><b>b</b></div>");
    assert_string_equal(clean(p, "<td colspan=2 style=\"background:url(javascript:x)\">c</td>"),
                        "<td>c</td>");
    /* No attribute survives but an a's href. */
    assert_null(strstr(clean(p, "<ul type=disc><li value=3 onclick=x><a href=\"https://e.org\" "
                                "onclick=\"x\" target=_top style=\"x\">l</a></li></ul>"),
                       "on"));
}

static void test_hrefs(void **state)
{
    apr_pool_t *p = *state;
    static const char *const unsafe[] = {
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;avascript&#58;alert(1)",
        "java\tscript:alert(1)",
        "java&#9;script:alert(1)",
        "\x01javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "//evil.example/x",
        "/relative",
        "#top",
        "",
    };

    for (apr_size_t i = 0; i < sizeof(unsafe) / sizeof(*unsafe); i++) {
        assert_string_equal(clean(p, apr_pstrcat(p, "<p><a href=\"", unsafe[i],
                                                 "\" onclick=\"x\">x</a></p>", NULL)),
                            "<p><a>x</a></p>");
    }
    assert_string_equal(clean(p, "<p><a href=\"https://example.org/a?b=1&amp;c=2\">l</a></p>"),
                        "<p><a href=\"https://example.org/a?b=1&amp;c=2\" "
                        "rel=\"nofollow noopener\">l</a></p>");
    assert_string_equal(clean(p, "<p><a href=\"  HTTP://example.org/\">l</a></p>"),
                        "<p><a href=\"HTTP://example.org/\" rel=\"nofollow noopener\">l</a></p>");
    assert_string_equal(clean(p, "<p><a href=\"mailto:a@example.org\">m</a></p>"),
                        "<p><a href=\"mailto:a@example.org\" rel=\"nofollow noopener\">m</a></p>");
    /* A quote in the URL cannot end the attribute. */
    assert_string_equal(clean(p, "<p><a href='https://e.org/\"onmouseover=\"alert(1)'>q</a></p>"),
                        "<p><a href=\"https://e.org/&quot;onmouseover=&quot;alert(1)\" "
                        "rel=\"nofollow noopener\">q</a></p>");
}

static void test_entities_decoded_and_escaped(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(clean(p, "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &eacute; "
                                 "&#x263A; &#9731; &quot;q&quot; &#39;s&#39; 1 < 2 > 0</p>"),
                        "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; \xC3\xA9 "
                        "\xE2\x98\xBA \xE2\x98\x83 &quot;q&quot; &#39;s&#39; 1 &lt; 2 &gt; 0</p>");
}

static void test_unknown_elements_keep_their_text(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(clean(p, "<p><font color=red>red</font> <mark>m</mark> "
                                 "<custom-tag a=b>c <b>b</b></custom-tag></p>"),
                        "<p>red m c <b>b</b></p>");
    assert_string_equal(clean(p, "<article><section><p>s</p></section></article>"), "<p>s</p>");
    /* A form's labels and buttons are text; its values (select, textarea) are not. */
    assert_string_equal(clean(p, "<form action=x><p><button onclick=x>Go</button></p></form>"),
                        "<p>Go</p>");
    assert_string_equal(clean(p, "plain text"), "<p>plain text</p>");
}

static void test_invalid_and_truncated(void **state)
{
    apr_pool_t *p = *state;
    static const char *const broken[] = {"<",
                                         "<p",
                                         "<p>a</b></i>c",
                                         "<a href=\"https://x",
                                         "<a href=javascript:alert(1)",
                                         "</p></div>",
                                         "<<<>>>",
                                         "<p>&",
                                         "<p>&#",
                                         "<p>&#xffffffff;",
                                         "<!--",
                                         "<![CDATA[<b>x",
                                         "<table><td>a<tr><p>b",
                                         "<ul><li>one<li>two",
                                         "\xff\xfe<p>\xc3</p>",
                                         "<?xml",
                                         "<p/>"};
    static const char with_nul[] = "<p>a\0<script>alert(1)</script>b</p>";

    for (apr_size_t i = 0; i < sizeof(broken) / sizeof(*broken); i++) {
        const char *out = clean(p, broken[i]);

        assert_non_null(out);
        assert_null(strstr(out, "javascript"));
        assert_null(strstr(out, "<script"));
    }
    assert_string_equal(clean(p, "<p>trunc <b>bold"), "<p>trunc <b>bold</b></p>");
    assert_string_equal(clean(p, "<ul><li>one<li>two</ul>"), "<ul><li>one</li><li>two</li></ul>");
    /* Only len bytes are read. */
    assert_string_equal(aic_html_clean(p, "<p>ab</p><p>cd</p>", 9), "<p>ab</p>");
    assert_null(strstr(aic_html_clean(p, with_nul, sizeof(with_nul) - 1), "<script"));
    assert_string_equal(aic_html_clean(p, "", 0), "");
    assert_string_equal(aic_html_clean(p, NULL, 0), "");
}

static void test_deep_nesting_bounded(void **state)
{
    apr_pool_t *p = *state;
    const int n = 10000;
    char *deep = apr_palloc(p, (apr_size_t)n * 11 + 2), *w = deep;
    const char *out;

    for (int i = 0; i < n; i++) {
        memcpy(w, "<div>", 5);
        w += 5;
    }
    *w++ = 'x';
    for (int i = 0; i < n; i++) {
        memcpy(w, "</div>", 6);
        w += 6;
    }
    *w = '\0';
    out = aic_html_clean(p, deep, (apr_size_t)(w - deep));
    /* Deeper than libxml2 reads: the text shown as written, escaped. */
    assert_non_null(strstr(out, "x"));
    assert_true(count(out, "<div>") <= AIC_HTML_CLEAN_MAX_DEPTH);
    assert_int_equal(count(out, "<div>"), count(out, "</div>"));
    assert_true(strlen(out) <= 6 * (apr_size_t)(w - deep) + 64);

    /* A depth it reads is kept as markup. */
    deep[200 * 5] = 'x';
    memmove(deep + 200 * 5 + 1, w - 200 * 6, 200 * 6 + 1);
    out = clean(p, deep);
    assert_int_equal(count(out, "<div>"), 200);
    assert_int_equal(count(out, "</div>"), 200);
    assert_non_null(strstr(out, "<div>x</div>"));
}

static void test_text(void **state)
{
    apr_pool_t *p = *state;
    const char *html = "<p>Hello <b>bold</b></p><ul><li>a</li><li>b</li></ul>"
                       "<script>alert(1)</script><p>&lt;tag&gt; &amp;</p>";

    assert_string_equal(aic_html_text(p, html, strlen(html), 200), "Hello bold a b <tag> &");
    assert_string_equal(aic_html_text(p, html, strlen(html), 12), "Hello bol\xE2\x80\xA6");
    assert_string_equal(aic_html_text(p, "", 0, 200), "");
}

static void test_share_view_html_messages(void **state)
{
    apr_pool_t *p = *state;
    aic_share_message msgs[] = {{"user", NULL, "Make a **list** <b>please</b>",
                                 "2026-12-01T10:00:00Z", NULL, "text/markdown"},
                                {"ai", "Gemini", "<p>Hello <b>x</b></p><ul><li>a</li></ul>",
                                 "2026-12-01T10:00:01Z", NULL, "text/html"},
                                {"ai", "Gemini",
                                 "<script>alert(1)</script><img src=x onerror=alert(1)>"
                                 "<a href=\"javascript:alert(1)\">x</a>",
                                 "2026-12-01T10:00:02Z", NULL, "text/html"},
                                {"ai", "Bot", "no *type*", "2026-12-01T10:00:03Z", NULL, NULL}};
    aic_share_view v = {"T", "[]", "2026-12-01", "", "2026-12-01T10:00:00Z", "", 1, msgs, 4};
    const char *html = aic_share_view_page(p, &v, NULL, "/chat", "TOKEN");
    const char *json = aic_json_dump(aic_share_view_json(p, &v), p);

    /* Markdown stays Markdown (its raw HTML dropped); HTML is kept where allowed. */
    assert_non_null(strstr(html, "<p>Make a <strong>list</strong> "));
    assert_null(strstr(html, "<b>please"));
    assert_non_null(strstr(html, "<div class=\"body\"><p>Hello <b>x</b></p><ul><li>a</li></ul>"
                                 "</div>"));
    assert_non_null(strstr(html, "<div class=\"body\"><a>x</a></div>"));
    assert_non_null(strstr(html, "<em>type</em>"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "onerror"));
    assert_null(strstr(html, "javascript:"));
    /* JSON: the content as stored, with its type. */
    assert_non_null(strstr(json, "\"content\":\"<p>Hello <b>x</b></p><ul><li>a</li></ul>\","
                                 "\"content_type\":\"text/html\""));
    assert_non_null(strstr(json, "\"content\":\"no *type*\",\"content_type\":\"text/markdown\""));

    /* A first message in HTML describes the page by its text. */
    v.messages = msgs + 1;
    v.nmessages = 1;
    html = aic_share_view_page(p, &v, NULL, "/chat", "TOKEN");
    assert_non_null(strstr(html, "<meta name=\"description\" content=\"Hello x a\">"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_allowlisted_markup_kept),
        POOL_TEST(test_code_and_embeds_dropped_with_content),
        POOL_TEST(test_attributes_dropped),
        POOL_TEST(test_hrefs),
        POOL_TEST(test_entities_decoded_and_escaped),
        POOL_TEST(test_unknown_elements_keep_their_text),
        POOL_TEST(test_invalid_and_truncated),
        POOL_TEST(test_deep_nesting_bounded),
        POOL_TEST(test_text),
        POOL_TEST(test_share_view_html_messages),
    };

    aic_markdown_init();
    aic_html_clean_init();
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* Unit tests for core/aic_csrf: cross-site request refusal. */
#include "unit_helpers.h"

#include "core/aic_csrf.h"

#define HOST "127.0.0.1:8080"
#define PUB  "https://chat.example.com/aichat"

static void test_unsafe_methods(void **state)
{
    assert_true(aic_csrf_unsafe_method("POST"));
    assert_true(aic_csrf_unsafe_method("PUT"));
    assert_true(aic_csrf_unsafe_method("PATCH"));
    assert_true(aic_csrf_unsafe_method("DELETE"));
    /* Unknown or oddly cased methods are treated as unsafe. */
    assert_true(aic_csrf_unsafe_method("PROPFIND"));
    assert_true(aic_csrf_unsafe_method("get"));
    assert_true(aic_csrf_unsafe_method("GETX"));
    assert_true(aic_csrf_unsafe_method(""));
}

static void test_safe_methods(void **state)
{
    assert_false(aic_csrf_unsafe_method("GET"));
    assert_false(aic_csrf_unsafe_method("HEAD"));
    assert_false(aic_csrf_unsafe_method("OPTIONS"));
}

static void test_same_origin(void **state)
{
    assert_true(aic_csrf_allowed("http://" HOST, NULL, HOST, NULL));
    assert_true(aic_csrf_allowed("https://" HOST, NULL, HOST, NULL));
    assert_true(aic_csrf_allowed("http://localhost", NULL, "localhost", NULL));
    /* The Origin header wins over a Referer. */
    assert_true(aic_csrf_allowed("http://" HOST, "https://evil.com/", HOST, NULL));
}

static void test_same_origin_case_insensitive(void **state)
{
    assert_true(
        aic_csrf_allowed("http://Chat.Example.COM:8443", NULL, "chat.example.com:8443", NULL));
    assert_true(aic_csrf_allowed("HTTPS://chat.example.com", NULL, "CHAT.example.com", NULL));
}

static void test_port_must_match(void **state)
{
    assert_false(aic_csrf_allowed("http://127.0.0.1:8081", NULL, HOST, NULL));
    assert_false(aic_csrf_allowed("http://127.0.0.1", NULL, HOST, NULL));
    assert_false(aic_csrf_allowed("http://" HOST, NULL, "127.0.0.1", NULL));
}

static void test_foreign_origin(void **state)
{
    assert_false(aic_csrf_allowed("https://evil.com", NULL, HOST, NULL));
    assert_false(aic_csrf_allowed("https://evil.com", NULL, HOST, PUB));
    /* Even with a same-origin Referer, a foreign Origin decides. */
    assert_false(aic_csrf_allowed("https://evil.com", "http://" HOST "/", HOST, NULL));
}

static void test_null_origin(void **state)
{
    assert_false(aic_csrf_allowed("null", NULL, HOST, NULL));
    assert_false(aic_csrf_allowed("null", "http://" HOST "/page", HOST, NULL));
    assert_false(aic_csrf_allowed("null", NULL, HOST, PUB));
}

static void test_malformed_origin(void **state)
{
    assert_false(aic_csrf_allowed("", NULL, HOST, NULL));
    assert_false(aic_csrf_allowed(HOST, NULL, HOST, NULL));
    assert_false(aic_csrf_allowed("ftp://" HOST, NULL, HOST, NULL));
    assert_false(aic_csrf_allowed("http://", NULL, "", NULL));
    assert_false(aic_csrf_allowed("//" HOST, NULL, HOST, NULL));
}

static void test_look_alike_hosts(void **state)
{
    assert_false(aic_csrf_allowed("http://127.0.0.1:80801", NULL, HOST, NULL));
    assert_false(aic_csrf_allowed("http://127.0.0.1:808", NULL, HOST, NULL));
    assert_false(aic_csrf_allowed("https://evil.com.attacker", NULL, "evil.com", NULL));
    assert_false(aic_csrf_allowed("https://evil.com.attacker", NULL, "evil.com:443", NULL));
    assert_false(aic_csrf_allowed("https://xevil.com", NULL, "evil.com", NULL));
    assert_false(aic_csrf_allowed("https://vil.com", NULL, "evil.com", NULL));
    /* User-info tricks: the authority is the whole thing up to the first '/'. */
    assert_false(aic_csrf_allowed("http://" HOST "@evil.com", NULL, HOST, NULL));
    assert_false(aic_csrf_allowed("http://evil.com@" HOST, NULL, HOST, NULL));
    /* Look-alikes of the public URL. */
    assert_false(aic_csrf_allowed("https://chat.example.com.attacker", NULL, HOST, PUB));
    assert_false(aic_csrf_allowed("https://chat.example.co", NULL, HOST, PUB));
    assert_false(aic_csrf_allowed("https://chat.example.com:4443", NULL, HOST, PUB));
}

static void test_referer_fallback(void **state)
{
    assert_true(aic_csrf_allowed(NULL, "http://" HOST "/aichat/admin/users", HOST, NULL));
    assert_true(aic_csrf_allowed(NULL, "http://" HOST, HOST, NULL));
    assert_true(aic_csrf_allowed(NULL, "http://" HOST "?q=1", HOST, NULL));
    assert_true(aic_csrf_allowed(NULL, "http://" HOST "#frag", HOST, NULL));
    assert_false(aic_csrf_allowed(NULL, "https://evil.com/", HOST, NULL));
    assert_false(aic_csrf_allowed(NULL, "https://evil.com/?next=http://" HOST "/", HOST, NULL));
    assert_false(aic_csrf_allowed(NULL, "http://127.0.0.1:80801/x", HOST, NULL));
    assert_false(aic_csrf_allowed(NULL, "not a url", HOST, NULL));
}

static void test_no_headers_allowed(void **state)
{
    /* curl, SDKs: neither header. */
    assert_true(aic_csrf_allowed(NULL, NULL, HOST, NULL));
    assert_true(aic_csrf_allowed(NULL, NULL, HOST, PUB));
    /* An empty Referer is the same as none. */
    assert_true(aic_csrf_allowed(NULL, "", HOST, NULL));
}

static void test_public_url(void **state)
{
    /* Behind a proxy: the Host is internal, the browser's origin is the public one. */
    assert_true(aic_csrf_allowed("https://chat.example.com", NULL, HOST, PUB));
    assert_true(aic_csrf_allowed("https://CHAT.example.com", NULL, HOST, PUB));
    assert_true(aic_csrf_allowed(NULL, "https://chat.example.com/aichat/", HOST, PUB));
    assert_true(aic_csrf_allowed("https://chat.example.com:8443", NULL, HOST,
                                 "https://chat.example.com:8443"));
    assert_true(
        aic_csrf_allowed("https://chat.example.com", NULL, HOST, "https://chat.example.com?x#y"));
    /* The scheme is part of the origin; a default port is the same as none. */
    assert_false(aic_csrf_allowed("http://chat.example.com", NULL, HOST, PUB));
    assert_true(aic_csrf_allowed("https://chat.example.com:443", NULL, HOST, PUB));
    assert_true(
        aic_csrf_allowed("http://chat.example.com", NULL, HOST, "http://chat.example.com:80/"));
    /* Without a public URL, the public origin is foreign. */
    assert_false(aic_csrf_allowed("https://chat.example.com", NULL, HOST, NULL));
    /* A malformed public URL accepts nothing extra. */
    assert_false(aic_csrf_allowed("https://chat.example.com", NULL, HOST, "chat.example.com"));
    assert_false(aic_csrf_allowed("https://chat.example.com", NULL, HOST, ""));
}

static void test_public_url_alone_names_the_site(void **state)
{
    /* The Host header is the client's to choose: with a public URL it names nothing. */
    assert_false(aic_csrf_allowed("http://" HOST, NULL, HOST, PUB));
    assert_false(aic_csrf_allowed("http://evil.example", NULL, "evil.example", PUB));
    assert_false(aic_csrf_allowed(NULL, "http://evil.example/x", "evil.example", PUB));
    assert_true(aic_csrf_allowed("https://chat.example.com", NULL, "evil.example", PUB));
}

static void test_same_site_path(void **state)
{
    assert_true(aic_csrf_same_site_path("/chat/"));
    assert_true(aic_csrf_same_site_path("/"));
    assert_true(aic_csrf_same_site_path("/chat/?next=https://evil.example"));
    /* Percent-encoded slashes stay in the path: browsers do not decode them. */
    assert_true(aic_csrf_same_site_path("/%2F%2Fevil.example"));
    assert_true(aic_csrf_same_site_path("/%5Cevil.example"));
    assert_false(aic_csrf_same_site_path(NULL));
    assert_false(aic_csrf_same_site_path(""));
    assert_false(aic_csrf_same_site_path("https://evil.example/"));
    assert_false(aic_csrf_same_site_path("HTTP://evil.example/"));
    assert_false(aic_csrf_same_site_path("javascript:alert(1)"));
    assert_false(aic_csrf_same_site_path("//evil.example/"));
    assert_false(aic_csrf_same_site_path("/\\evil.example/"));
    assert_false(aic_csrf_same_site_path("\\\\evil.example/"));
    assert_false(aic_csrf_same_site_path("chat/"));
    /* Browsers drop tabs and newlines and read a backslash as a slash. */
    assert_false(aic_csrf_same_site_path("/\t/evil.example/"));
    assert_false(aic_csrf_same_site_path("/\n/evil.example/"));
    assert_false(aic_csrf_same_site_path("/chat\\..\\/evil.example"));
}

static void test_no_host(void **state)
{
    assert_false(aic_csrf_allowed("http://" HOST, NULL, NULL, NULL));
    assert_true(aic_csrf_allowed("https://chat.example.com", NULL, NULL, PUB));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        POOL_TEST(test_unsafe_methods),
        POOL_TEST(test_safe_methods),
        POOL_TEST(test_same_origin),
        POOL_TEST(test_same_origin_case_insensitive),
        POOL_TEST(test_port_must_match),
        POOL_TEST(test_foreign_origin),
        POOL_TEST(test_null_origin),
        POOL_TEST(test_malformed_origin),
        POOL_TEST(test_look_alike_hosts),
        POOL_TEST(test_referer_fallback),
        POOL_TEST(test_no_headers_allowed),
        POOL_TEST(test_public_url),
        POOL_TEST(test_public_url_alone_names_the_site),
        POOL_TEST(test_same_site_path),
        POOL_TEST(test_no_host),
    };

    return cmocka_run_group_tests_name("aic_csrf", tests, group_setup, group_teardown);
}

/* e2e_ui.c — end-to-end tests of the web UI's serving (src/http/routes_ui.c)
 * against a real `amparo serve`: index.html and build-stamped assets from
 * memory, the UI's Content-Security-Policy and security headers, ETags and
 * 304, gzip when accepted, caching, and refusals (unknown files, traversal,
 * methods).  The screens themselves are tested in a browser: tests/browser/. */
#include "e2e_util.h"

/* One answer with every header kept (e2e_util's resp keeps only a few). */
typedef struct {
    long status;
    char headers[8192];
    size_t hlen;
    unsigned char *body;
    size_t len;
} raw_resp;

static size_t raw_header(char *p, size_t size, size_t n, void *ud)
{
    raw_resp *r = ud;
    size_t k = size * n;
    if (r->hlen + k + 1 < sizeof r->headers) {
        memcpy(r->headers + r->hlen, p, k);
        r->hlen += k;
        r->headers[r->hlen] = '\0';
    }
    return k;
}

static size_t raw_body(char *p, size_t size, size_t n, void *ud)
{
    raw_resp *r = ud;
    size_t k = size * n;
    unsigned char *grown = realloc(r->body, r->len + k + 1);
    if (!grown)
        return 0;
    r->body = grown;
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = '\0';
    return k;
}

/* method "GET"/"HEAD"/..., extra: one header line or NULL. */
static void raw(raw_resp *r, const char *method, const char *path, const char *extra)
{
    memset(r, 0, sizeof *r);
    CURL *h = curl_easy_init();
    assert_non_null(h);
    char url[512];
    snprintf(url, sizeof url, "%s%s", srv.base, path);
    struct curl_slist *hl = NULL;
    if (extra)
        hl = curl_slist_append(hl, extra);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, raw_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, raw_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
}

static void raw_free(raw_resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* The value of header name (case-insensitive) in out, or "" when absent;
 * answers how many times it appears. */
static int header(const raw_resp *r, const char *name, char *out, size_t cap)
{
    int count = 0;
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *line = r->headers; *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = len - (size_t)(v - line);
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            count++;
        }
        line += len;
        if (*line)
            line += 2;
    }
    return count;
}

/* The build-stamped prefix ("/assets/<build>") named by index.html. */
static void asset_prefix(char *out, size_t cap)
{
    raw_resp r;
    raw(&r, "GET", "/index.html", NULL);
    assert_int_equal(r.status, 200);
    const char *p = strstr((const char *)r.body, "/assets/");
    assert_non_null(p);
    size_t n = 8 + strspn(p + 8, "0123456789abcdef");
    assert_true(n > 8 && n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
    raw_free(&r);
}

static void test_index_headers(void **state)
{
    (void)state;
    raw_resp r;
    char v[1024];
    raw(&r, "GET", "/index.html", NULL);
    assert_int_equal(r.status, 200);
    header(&r, "Content-Type", v, sizeof v);
    assert_string_equal(v, "text/html; charset=utf-8");
    /* one policy, the UI's: scripts only from this origin, never inline */
    assert_int_equal(header(&r, "Content-Security-Policy", v, sizeof v), 1);
    assert_non_null(strstr(v, "default-src 'none'"));
    assert_non_null(strstr(v, "script-src 'self'"));
    assert_non_null(strstr(v, "frame-ancestors 'none'"));
    assert_null(strstr(v, "unsafe-inline"));
    assert_null(strstr(v, "unsafe-eval"));
    assert_null(strstr(v, "http"));
    header(&r, "X-Content-Type-Options", v, sizeof v);
    assert_string_equal(v, "nosniff");
    header(&r, "Referrer-Policy", v, sizeof v);
    assert_string_equal(v, "no-referrer");
    header(&r, "X-Frame-Options", v, sizeof v);
    assert_string_equal(v, "DENY");
    assert_int_equal(header(&r, "Cache-Control", v, sizeof v), 1);
    assert_string_equal(v, "no-cache");
    header(&r, "ETag", v, sizeof v);
    assert_true(v[0] == '"');
    /* no inline script in the page, and the build id replaced */
    assert_null(strstr((const char *)r.body, "%BUILD%"));
    assert_non_null(strstr((const char *)r.body, "<script type=\"module\" src=\"/assets/"));
    assert_null(strstr((const char *)r.body, "<script>"));
    raw_free(&r);
}

static void test_root_serves_index(void **state)
{
    (void)state;
    raw_resp a, b;
    raw(&a, "GET", "/", NULL);
    if (a.status == 404) {
        /* routes.c's match() cannot match the pattern "/" (see docs/UI.md) */
        raw_free(&a);
        skip();
    }
    raw(&b, "GET", "/index.html", NULL);
    assert_int_equal(a.status, 200);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.body, b.body, a.len);
    raw_free(&a);
    raw_free(&b);
}

static void test_asset_caching_and_etag(void **state)
{
    (void)state;
    char prefix[64], path[128], v[256], etag[64];
    asset_prefix(prefix, sizeof prefix);
    snprintf(path, sizeof path, "%s/js/main.js", prefix);
    raw_resp r;
    raw(&r, "GET", path, NULL);
    assert_int_equal(r.status, 200);
    header(&r, "Content-Type", v, sizeof v);
    assert_string_equal(v, "text/javascript; charset=utf-8");
    header(&r, "Cache-Control", v, sizeof v);
    assert_string_equal(v, "public, max-age=31536000, immutable");
    assert_int_equal(header(&r, "Content-Encoding", v, sizeof v), 0);
    header(&r, "ETag", etag, sizeof etag);
    assert_true(etag[0] == '"');
    assert_non_null(strstr((const char *)r.body, "import"));
    raw_free(&r);

    char inm[128];
    snprintf(inm, sizeof inm, "If-None-Match: W/\"x\", %s", etag);
    raw(&r, "GET", path, inm);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.len, 0);
    raw_free(&r);

    raw(&r, "GET", path, "If-None-Match: \"something-else\"");
    assert_int_equal(r.status, 200);
    raw_free(&r);

    /* a page of an older build gets today's file, revalidated */
    raw(&r, "GET", "/assets/000000000000/js/main.js", NULL);
    assert_int_equal(r.status, 200);
    header(&r, "Cache-Control", v, sizeof v);
    assert_string_equal(v, "no-cache");
    raw_free(&r);

    raw(&r, "HEAD", path, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    raw_free(&r);
}

static void test_gzip(void **state)
{
    (void)state;
    char prefix[64], path[128], v[256], etag_plain[64], etag_gz[64];
    asset_prefix(prefix, sizeof prefix);
    snprintf(path, sizeof path, "%s/css/app.css", prefix);
    raw_resp plain, gz;
    raw(&plain, "GET", path, NULL);
    raw(&gz, "GET", path, "Accept-Encoding: br, gzip;q=0.8");
    assert_int_equal(plain.status, 200);
    assert_int_equal(gz.status, 200);
    header(&gz, "Content-Encoding", v, sizeof v);
    assert_string_equal(v, "gzip");
    header(&gz, "Vary", v, sizeof v);
    assert_string_equal(v, "Accept-Encoding");
    assert_true(gz.len > 2 && gz.body[0] == 0x1f && gz.body[1] == 0x8b);
    assert_true(gz.len < plain.len);
    header(&plain, "ETag", etag_plain, sizeof etag_plain);
    header(&gz, "ETag", etag_gz, sizeof etag_gz);
    assert_string_not_equal(etag_plain, etag_gz);
    raw_free(&plain);
    raw_free(&gz);

    raw(&gz, "GET", path, "Accept-Encoding: gzip;q=0, identity");
    assert_int_equal(header(&gz, "Content-Encoding", v, sizeof v), 0);
    raw_free(&gz);
    raw(&gz, "GET", path, "Accept-Encoding: *");
    header(&gz, "Content-Encoding", v, sizeof v);
    assert_string_equal(v, "gzip");
    raw_free(&gz);
}

static void test_vendored_licences_and_i18n(void **state)
{
    (void)state;
    char prefix[64], path[160], v[256];
    asset_prefix(prefix, sizeof prefix);
    const char *files[] = {"vendor/preact/LICENSE", "vendor/htm/LICENSE", "i18n/en.json",
                           "i18n/es.json",          "i18n/fr.json",       "i18n/uk.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        raw_resp r;
        snprintf(path, sizeof path, "%s/%s", prefix, files[i]);
        raw(&r, "GET", path, NULL);
        assert_int_equal(r.status, 200);
        header(&r, "Content-Type", v, sizeof v);
        assert_true(strstr(v, "json") || strstr(v, "text/plain"));
        if (strstr(files[i], "json")) {
            json_t *j = json_loadb((const char *)r.body, r.len, 0, NULL);
            assert_non_null(j);
            assert_non_null(json_object_get(j, "nav.cases"));
            json_decref(j);
        }
        raw_free(&r);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    char prefix[64], path[160];
    asset_prefix(prefix, sizeof prefix);
    const char *bad[] = {"/js/nope.js", "/../index.html", "/js/../index.html",
                         "/index.html", "//etc/passwd",   "/vendor/README.md"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        resp r;
        snprintf(path, sizeof path, "%s%s", prefix, bad[i]);
        GET(&r, path);
        expect_error(&r, 404, "not_found");
        resp_free(&r);
    }
    resp r;
    SEND(&r, "POST", "/index.html", "{}", NULL);
    expect_error(&r, 405, "method_not_allowed");
    resp_free(&r);
    snprintf(path, sizeof path, "%s/js/main.js", prefix);
    SEND(&r, "DELETE", path, NULL, NULL);
    expect_error(&r, 405, "method_not_allowed");
    resp_free(&r);
}

static void test_api_keeps_its_own_headers(void **state)
{
    (void)state;
    raw_resp r;
    char v[256];
    raw(&r, "GET", "/healthz", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(header(&r, "Content-Security-Policy", v, sizeof v), 1);
    assert_string_equal(v, "default-src 'none'; frame-ancestors 'none'");
    header(&r, "Cache-Control", v, sizeof v);
    assert_string_equal(v, "no-store");
    raw_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_headers),
        cmocka_unit_test(test_root_serves_index),
        cmocka_unit_test(test_asset_caching_and_etag),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_vendored_licences_and_i18n),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_api_keeps_its_own_headers),
    };
    return cmocka_run_group_tests_name("e2e_ui", tests, group_setup, group_teardown);
}

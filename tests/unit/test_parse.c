/* test_parse.c — the parsers of raw client bytes: JSON bodies and query strings. */
#include "testutil.h"

#include "http/parse.h"

/* ---- JSON bodies ------------------------------------------------------------------ */

static json_t *body(const char *text, amp_err *err)
{
    return parse_json_body(text, strlen(text), PARSE_MAX_DEPTH, err);
}

/* Asserts the body is refused with AMP_EBADREQ and one field error on "body"
 * with `rule`; returns the field error's message (valid until err is cleared). */
static const char *expect_body_refused(const char *buf, size_t len, int depth, const char *rule,
                                       amp_err *err)
{
    json_t *doc = parse_json_body(buf, len, depth, err);
    if (doc) {
        json_decref(doc);
        fail_msg("body accepted: %.80s", buf ? buf : "(null)");
    }
    assert_int_equal(err->code, AMP_EBADREQ);
    assert_int_equal(json_array_size(err->fields), 1);
    assert_true(tu_has_field_error(err, "body", rule));
    return json_string_value(json_object_get(json_array_get(err->fields, 0), "message"));
}

/* "[[[…]]]" nested n deep, or objects {"a":{"a":…}} when objects is true. */
static char *nested(int n, bool objects)
{
    char *s = malloc((size_t)n * 6 + 8), *w = s;
    for (int i = 0; i < n; i++)
        w += sprintf(w, "%s", objects ? "{\"a\":" : "[");
    w += sprintf(w, "1");
    for (int i = 0; i < n; i++)
        *w++ = objects ? '}' : ']';
    *w = '\0';
    return s;
}

static void test_body_valid(void **state)
{
    (void)state;
    amp_err err = {0};
    json_t *doc = body("{\"prs_FirstName\":\"Ana\",\"n\":3,\"a\":[1,2]}", &err);
    assert_non_null(doc);
    assert_int_equal(err.code, AMP_OK);
    assert_null(err.fields);
    assert_string_equal(json_string_value(json_object_get(doc, "prs_FirstName")), "Ana");
    assert_int_equal(json_integer_value(json_object_get(doc, "n")), 3);
    assert_int_equal(json_array_size(json_object_get(doc, "a")), 2);
    json_decref(doc);
    /* length, not the terminator, bounds the input */
    doc = parse_json_body("{\"a\":1}garbage", 7, PARSE_MAX_DEPTH, &err);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(doc, "a")), 1);
    json_decref(doc);
}

static void test_body_empty(void **state)
{
    (void)state;
    amp_err err = {0};
    expect_body_refused("", 0, PARSE_MAX_DEPTH, "required", &err);
    amp_err_clear(&err);
    expect_body_refused(NULL, 0, PARSE_MAX_DEPTH, "required", &err);
    amp_err_clear(&err);
    expect_body_refused("{}", 0, PARSE_MAX_DEPTH, "required", &err);
    amp_err_clear(&err);
    /* only whitespace is not empty but not JSON either */
    expect_body_refused("  \n", 3, PARSE_MAX_DEPTH, "json", &err);
    amp_err_clear(&err);
}

static void test_body_malformed(void **state)
{
    (void)state;
    amp_err err = {0};
    const char *text = "{\n  \"a\": 1,\n  \"b\": }";
    const char *msg = expect_body_refused(text, strlen(text), PARSE_MAX_DEPTH, "json", &err);
    assert_non_null(strstr(msg, "line 3"));
    assert_non_null(strstr(msg, "column 8"));
    assert_non_null(strstr(err.message, "line 3"));
    amp_err_clear(&err);

    static const char *const bad[] = {"{",          "{\"a\":}",   "{\"a\" 1}", "[1,]",
                                      "{\"a\":1}}", "{'a':1}",    "nul",       "{\"a\":tru}",
                                      "{} {}",      "{\"a\":01}", "\"text\"",  "42"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        msg = expect_body_refused(bad[i], strlen(bad[i]), PARSE_MAX_DEPTH, "json", &err);
        assert_non_null(strstr(msg, "line 1"));
        assert_non_null(strstr(msg, "column"));
        amp_err_clear(&err);
    }
}

static void test_body_duplicate_keys(void **state)
{
    (void)state;
    amp_err err = {0};
    const char *text = "{\"cas_Status\":\"Active\",\"cas_Status\":\"Closed\"}";
    const char *msg = expect_body_refused(text, strlen(text), PARSE_MAX_DEPTH, "json", &err);
    assert_non_null(strstr(msg, "duplicate"));
    amp_err_clear(&err);
    /* nested objects too */
    text = "{\"events\":[{\"hte_Type\":\"Transit\",\"hte_Type\":\"Exploitation\"}]}";
    expect_body_refused(text, strlen(text), PARSE_MAX_DEPTH, "json", &err);
    amp_err_clear(&err);
    /* the same key in different objects is fine */
    json_t *doc = body("{\"a\":{\"k\":1},\"b\":{\"k\":2}}", &err);
    assert_non_null(doc);
    json_decref(doc);
}

static void test_body_depth(void **state)
{
    (void)state;
    amp_err err = {0};
    for (int objects = 0; objects < 2; objects++) {
        char *ok = nested(32, objects), *deep = nested(33, objects);
        json_t *doc = body(ok, &err);
        assert_non_null(doc);
        assert_null(err.fields);
        json_decref(doc);
        const char *msg = expect_body_refused(deep, strlen(deep), PARSE_MAX_DEPTH, "depth", &err);
        assert_string_equal(msg, "JSON is nested deeper than 32 levels");
        amp_err_clear(&err);
        free(ok);
        free(deep);
    }
    /* the limit is the caller's */
    char *three = nested(3, false);
    expect_body_refused(three, strlen(three), 2, "depth", &err);
    amp_err_clear(&err);
    json_t *doc = parse_json_body(three, strlen(three), 3, &err);
    assert_non_null(doc);
    json_decref(doc);
    free(three);
    /* siblings do not add up: 32 + 32 side by side is depth 33 at most once */
    char *a = nested(31, false);
    char text[1024];
    snprintf(text, sizeof text, "[%s,%s]", a, a);
    doc = body(text, &err);
    assert_non_null(doc);
    json_decref(doc);
    free(a);
    /* a huge nesting is refused quickly without recursion */
    size_t n = 1000000;
    char *huge = malloc(n);
    memset(huge, '[', n);
    expect_body_refused(huge, n, PARSE_MAX_DEPTH, "depth", &err);
    amp_err_clear(&err);
    free(huge);
}

static void test_body_brackets_in_strings(void **state)
{
    (void)state;
    amp_err err = {0};
    char text[512], s[128];
    memset(s, '[', 60);
    memset(s + 60, '{', 60);
    s[120] = '\0';
    /* 120 brackets inside a string: depth 1 */
    snprintf(text, sizeof text, "{\"a\":\"%s\"}", s);
    json_t *doc = body(text, &err);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "a")), s);
    json_decref(doc);
    /* an escaped quote does not end the string */
    snprintf(text, sizeof text, "{\"a\":\"x\\\"%s\"}", s);
    doc = body(text, &err);
    assert_non_null(doc);
    json_decref(doc);
    /* an escaped backslash does end it: the brackets after it count */
    char *deep = nested(33, false);
    snprintf(text, sizeof text, "[\"\\\\\",%s]", deep);
    expect_body_refused(text, strlen(text), PARSE_MAX_DEPTH, "depth", &err);
    amp_err_clear(&err);
    free(deep);
    /* brackets in keys */
    snprintf(text, sizeof text, "{\"%s\":1}", s);
    doc = body(text, &err);
    assert_non_null(doc);
    json_decref(doc);
    assert_null(err.fields);
}

static void test_body_nul(void **state)
{
    (void)state;
    amp_err err = {0};
    const char *text = "{\"prs_FirstName\":\"Ana\\u0000Maria\"}";
    expect_body_refused(text, strlen(text), PARSE_MAX_DEPTH, "json", &err);
    amp_err_clear(&err);
    /* a raw NUL byte */
    static const char raw[] = "{\"a\":\"x\0y\"}";
    expect_body_refused(raw, sizeof raw - 1, PARSE_MAX_DEPTH, "json", &err);
    amp_err_clear(&err);
    static const char raw2[] = "{\"a\":1}\0";
    expect_body_refused(raw2, sizeof raw2 - 1, PARSE_MAX_DEPTH, "json", &err);
    amp_err_clear(&err);
    /* other escapes are fine */
    json_t *doc = body("{\"a\":\"\\u00e9\\n\"}", &err);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "a")), "é\n");
    json_decref(doc);
}

/* ---- query strings --------------------------------------------------------------- */

static int query(const char *qs, query_params *q, amp_err *err)
{
    return parse_query(qs, strlen(qs), q, err);
}

static void expect_query_refused(const char *qs, const char *rule)
{
    amp_err err = {0};
    query_params q;
    if (query(qs, &q, &err) != -1)
        fail_msg("query accepted: %s", qs);
    assert_int_equal(err.code, AMP_EBADREQ);
    assert_int_equal(json_array_size(err.fields), 1);
    if (!tu_has_field_error(&err, "query", rule))
        fail_msg("query %s: not refused with rule %s", qs, rule);
    assert_int_equal(q.n, 0);
    assert_null(q.items);
    assert_null(q.storage);
    amp_err_clear(&err);
}

static void test_query_decoding(void **state)
{
    (void)state;
    amp_err err = {0};
    query_params q;
    assert_int_equal(
        query("status=Active&q=x%20y&name=Ana+Mar%C3%ADa&plus=%2B1&pct=100%25", &q, &err), 0);
    assert_int_equal(q.n, 5);
    assert_string_equal(q.items[0].name, "status");
    assert_string_equal(q.items[0].value, "Active");
    assert_string_equal(q.items[1].name, "q");
    assert_string_equal(q.items[1].value, "x y");
    assert_string_equal(q.items[2].value, "Ana María");
    assert_string_equal(q.items[3].value, "+1");
    assert_string_equal(q.items[4].value, "100%");
    query_params_release(&q);
    /* names are decoded too; '=' in a value stays; case of hex digits does not matter */
    assert_int_equal(query("citi%7aenship=CO%2cVE&e=a=b&h=%c3%a9%C3%A9", &q, &err), 0);
    assert_int_equal(q.n, 3);
    assert_string_equal(q.items[0].name, "citizenship");
    assert_string_equal(q.items[0].value, "CO,VE");
    assert_string_equal(q.items[1].name, "e");
    assert_string_equal(q.items[1].value, "a=b");
    assert_string_equal(q.items[2].value, "éé");
    query_params_release(&q);
    /* repeated names are kept in order */
    assert_int_equal(query("status=Active&status=FollowUp", &q, &err), 0);
    assert_int_equal(q.n, 2);
    assert_string_equal(q.items[1].name, "status");
    assert_string_equal(q.items[1].value, "FollowUp");
    query_params_release(&q);
    /* the length bounds the input */
    assert_int_equal(parse_query("a=1&b=2", 3, &q, &err), 0);
    assert_int_equal(q.n, 1);
    assert_string_equal(q.items[0].value, "1");
    query_params_release(&q);
    assert_null(err.fields);
    /* releasing twice is harmless */
    query_params_release(&q);
}

static void test_query_bad_escapes(void **state)
{
    (void)state;
    static const char *const bad[] = {"a=%",  "a=%4", "a=%zz", "a=%4g",  "a=%g4",
                                      "a=x%", "a%=1", "%=1",   "a=%%41", "a=1&b=%2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_query_refused(bad[i], "encoding");
    /* a value error names the parameter */
    amp_err err = {0};
    query_params q;
    assert_int_equal(query("status=%zz", &q, &err), -1);
    assert_non_null(strstr(err.message, "'status'"));
    amp_err_clear(&err);
}

static void test_query_control_chars(void **state)
{
    (void)state;
    static const char *const bad[] = {"a=%00", "a=%0a", "a=%0A",  "a=%0d",  "a=%1f",
                                      "a=%7f", "a=%09", "a%00=1", "a=x\ny", "a=\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_query_refused(bad[i], "encoding");
    amp_err err = {0};
    query_params q;
    assert_int_equal(query("a=%20%7e%80", &q, &err), 0); /* space, ~ and a high byte pass */
    assert_string_equal(q.items[0].value, " ~\x80");
    query_params_release(&q);
}

static void test_query_empty_pieces(void **state)
{
    (void)state;
    amp_err err = {0};
    query_params q;
    assert_int_equal(query("a=1&&b=2&", &q, &err), 0);
    assert_int_equal(q.n, 2);
    assert_string_equal(q.items[0].name, "a");
    assert_string_equal(q.items[1].name, "b");
    assert_string_equal(q.items[1].value, "2");
    query_params_release(&q);
    assert_int_equal(query("&&&", &q, &err), 0);
    assert_int_equal(q.n, 0);
    query_params_release(&q);
    assert_int_equal(query("", &q, &err), 0);
    assert_int_equal(q.n, 0);
    query_params_release(&q);
    assert_null(err.fields);
}

static void test_query_name_without_value(void **state)
{
    (void)state;
    amp_err err = {0};
    query_params q;
    assert_int_equal(query("flag&b=2&c=", &q, &err), 0);
    assert_int_equal(q.n, 3);
    assert_string_equal(q.items[0].name, "flag");
    assert_string_equal(q.items[0].value, "");
    assert_string_equal(q.items[1].value, "2");
    assert_string_equal(q.items[2].name, "c");
    assert_string_equal(q.items[2].value, "");
    query_params_release(&q);
}

static void test_query_param_count(void **state)
{
    (void)state;
    char qs[1024];
    size_t o = 0;
    amp_err err = {0};
    query_params q;
    for (int i = 0; i < PARSE_MAX_PARAMS; i++)
        o += (size_t)snprintf(qs + o, sizeof qs - o, "%sp%d=%d", i ? "&" : "", i, i);
    assert_int_equal(query(qs, &q, &err), 0);
    assert_int_equal(q.n, 64);
    assert_string_equal(q.items[63].name, "p63");
    assert_string_equal(q.items[63].value, "63");
    query_params_release(&q);
    /* empty pieces do not count */
    snprintf(qs + o, sizeof qs - o, "&&&");
    assert_int_equal(query(qs, &q, &err), 0);
    assert_int_equal(q.n, 64);
    query_params_release(&q);
    snprintf(qs + o, sizeof qs - o, "&p64=64");
    expect_query_refused(qs, "max_items");
}

static void test_query_length(void **state)
{
    (void)state;
    char *qs = malloc(PARSE_MAX_QUERY + 2);
    amp_err err = {0};
    query_params q;
    memcpy(qs, "a=", 2);
    memset(qs + 2, 'x', PARSE_MAX_QUERY - 2);
    qs[PARSE_MAX_QUERY] = '\0';
    assert_int_equal(query(qs, &q, &err), 0);
    assert_int_equal(q.n, 1);
    assert_int_equal(strlen(q.items[0].value), PARSE_MAX_QUERY - 2);
    query_params_release(&q);
    qs[PARSE_MAX_QUERY] = 'x';
    qs[PARSE_MAX_QUERY + 1] = '\0';
    expect_query_refused(qs, "max_length");
    free(qs);
    /* a maximal query of escapes */
    char *esc = malloc(PARSE_MAX_QUERY + 1);
    memcpy(esc, "a=", 2);
    size_t o = 2;
    while (o + 3 <= PARSE_MAX_QUERY) {
        memcpy(esc + o, "%41", 3);
        o += 3;
    }
    esc[o] = '\0';
    assert_int_equal(query(esc, &q, &err), 0);
    assert_int_equal(strlen(q.items[0].value), (o - 2) / 3);
    assert_int_equal(q.items[0].value[0], 'A');
    query_params_release(&q);
    free(esc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_valid),         cmocka_unit_test(test_body_empty),
        cmocka_unit_test(test_body_malformed),     cmocka_unit_test(test_body_duplicate_keys),
        cmocka_unit_test(test_body_depth),         cmocka_unit_test(test_body_brackets_in_strings),
        cmocka_unit_test(test_body_nul),           cmocka_unit_test(test_query_decoding),
        cmocka_unit_test(test_query_bad_escapes),  cmocka_unit_test(test_query_control_chars),
        cmocka_unit_test(test_query_empty_pieces), cmocka_unit_test(test_query_name_without_value),
        cmocka_unit_test(test_query_param_count),  cmocka_unit_test(test_query_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

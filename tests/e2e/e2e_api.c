/* e2e_api.c — end-to-end tests of the JSON API against a real `amparo serve`.
 *
 * The group setup creates a temporary data directory, runs `$AMPARO_BIN init`
 * and starts `$AMPARO_BIN serve --listen 127.0.0.1:0 --port-file …` with
 * AMPARO_TODAY fixed, then every test talks HTTP to it with libcurl.  The
 * durability test kills the server with SIGKILL and restarts it on the same
 * data; the last test stops it with SIGTERM and requires exit status 0 (a crash
 * or a sanitizer report in the server fails the suite).  The server's output
 * goes to a log file that is printed whenever the server misbehaves.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#define HTTP_TIMEOUT_S 10L
#define START_TIMEOUT_MS 5000
#define STOP_TIMEOUT_MS 15000

/* ==== the server process ===================================================== */

static struct {
    char root[256];
    char data[320];
    char portfile[340];
    char logfile[340];
    const char *bin;
    pid_t pid;
    unsigned port;
    char base[64]; /* http://127.0.0.1:PORT */
} srv;

static CURL *main_curl; /* the main thread's handle (keeps its connection) */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/** malloc that never returns NULL (the tests cannot go on without memory). */
static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort();
    return p;
}

/** Prints the tail of the server's log (stdout and stderr) to stderr. */
static void dump_log(const char *why)
{
    FILE *f = fopen(srv.logfile, "r");
    fprintf(stderr, "---- server log (%s): %s ----\n", why, srv.logfile);
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    if (size > 16000)
        fseek(f, size - 16000, SEEK_SET);
    else
        fseek(f, 0, SEEK_SET);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stderr);
    fclose(f);
    fprintf(stderr, "---- end of server log ----\n");
}

/** True when the server's log holds a sanitizer report (UBSan keeps running
 *  after one unless halt_on_error is set, so the exit status alone is not enough). */
static bool log_has_sanitizer_report(void)
{
    FILE *f = fopen(srv.logfile, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        found = strstr(line, "runtime error:") || strstr(line, "AddressSanitizer") ||
                strstr(line, "LeakSanitizer") || strstr(line, "ThreadSanitizer");
    }
    fclose(f);
    return found;
}

/** Runs $AMPARO_BIN with args (NULL-terminated); returns its wait status or -1. */
static int run_tool(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(srv.logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setenv("AMPARO_TODAY", TEST_TODAY, 1);
        execv(srv.bin, argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return status;
}

/** Waits up to timeout_ms for the server to exit; 1 with *status when it did. */
static int wait_exit(int timeout_ms, int *status)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        pid_t w = waitpid(srv.pid, status, WNOHANG);
        if (w == srv.pid)
            return 1;
        if (w < 0 && errno != EINTR)
            return -1;
        if (now_ms() > deadline)
            return 0;
        sleep_ms(10);
    }
}

typedef struct resp resp;
static void http_do(CURL *h, resp *r, const char *method, const char *path, const char *body,
                    size_t len, const char *hdrs);
static void resp_free(resp *r);

/** Reads the port file once the server has written it completely; 0 if not yet. */
static unsigned read_port(void)
{
    FILE *f = fopen(srv.portfile, "r");
    if (!f)
        return 0;
    char line[32] = "";
    unsigned port = 0;
    if (fgets(line, sizeof line, f) && strchr(line, '\n'))
        port = (unsigned)strtoul(line, NULL, 10);
    fclose(f);
    return port < 65536 ? port : 0;
}

static bool healthz_ok(void);

/** Starts `amparo serve` on a free loopback port; waits (at most 5 s) for the port
 *  file and GET /healthz.  Returns 0 when the server is ready. */
static int server_launch(void)
{
    unlink(srv.portfile);
    srv.port = 0;
    srv.base[0] = '\0';
    srv.pid = fork();
    if (srv.pid < 0)
        return -1;
    if (srv.pid == 0) {
        int fd = open(srv.logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setenv("AMPARO_TODAY", TEST_TODAY, 1);
        execl(srv.bin, srv.bin, "serve", "--data", srv.data, "--listen", "127.0.0.1:0",
              "--port-file", srv.portfile, (char *)NULL);
        _exit(127);
    }
    int64_t deadline = now_ms() + START_TIMEOUT_MS;
    while (now_ms() < deadline) {
        int status;
        if (waitpid(srv.pid, &status, WNOHANG) == srv.pid) {
            fprintf(stderr, "amparo serve exited during start-up (status 0x%x)\n", status);
            srv.pid = 0;
            dump_log("start-up");
            return -1;
        }
        if (!srv.port && (srv.port = read_port()) != 0)
            snprintf(srv.base, sizeof srv.base, "http://127.0.0.1:%u", srv.port);
        if (srv.port && healthz_ok())
            return 0;
        sleep_ms(20);
    }
    fprintf(stderr, "amparo serve was not ready within %d ms\n", START_TIMEOUT_MS);
    dump_log("start-up timeout");
    kill(srv.pid, SIGKILL);
    waitpid(srv.pid, NULL, 0);
    srv.pid = 0;
    return -1;
}

/** Stops the server with SIGTERM; returns its wait status (or -1 if it would not
 *  stop, in which case it is killed). */
static int server_terminate(void)
{
    int status = -1;
    if (srv.pid <= 0)
        return -1;
    kill(srv.pid, SIGTERM);
    if (wait_exit(STOP_TIMEOUT_MS, &status) != 1) {
        fprintf(stderr, "amparo serve did not stop within %d ms of SIGTERM\n", STOP_TIMEOUT_MS);
        kill(srv.pid, SIGKILL);
        waitpid(srv.pid, NULL, 0);
        status = -1;
    }
    srv.pid = 0;
    return status;
}

static int group_setup(void **state)
{
    (void)state;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    main_curl = curl_easy_init();
    if (!main_curl)
        return -1;
    const char *bin = getenv("AMPARO_BIN");
    srv.bin = bin && *bin ? bin : "build/amparo";
    if (access(srv.bin, X_OK) != 0) {
        fprintf(stderr, "AMPARO_BIN '%s' is not an executable\n", srv.bin);
        return -1;
    }
    const char *base = getenv("TMPDIR");
    snprintf(srv.root, sizeof srv.root, "%s/amparo-e2e-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(srv.root))
        return -1;
    snprintf(srv.data, sizeof srv.data, "%s/data", srv.root);
    snprintf(srv.portfile, sizeof srv.portfile, "%s/port", srv.root);
    snprintf(srv.logfile, sizeof srv.logfile, "%s/server.log", srv.root);
    char *init_argv[] = {(char *)srv.bin, "init", "--data", srv.data, "--country", "EC", NULL};
    int st = run_tool(init_argv);
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "amparo init failed (status 0x%x)\n", st);
        dump_log("init");
        return -1;
    }
    return server_launch();
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = 0;
    if (srv.pid > 0) { /* the final test did not run or did not finish */
        int st = server_terminate();
        if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "amparo serve did not exit cleanly (status 0x%x)\n", st);
            dump_log("teardown");
            rc = -1;
        }
    }
    if (log_has_sanitizer_report()) {
        dump_log("sanitizer report");
        rc = -1;
    }
    const char *keep = getenv("AMPARO_E2E_KEEP");
    if (srv.root[0] && !(keep && *keep))
        tu_rmdir(srv.root);
    else if (srv.root[0])
        fprintf(stderr, "e2e data kept in %s\n", srv.root);
    curl_easy_cleanup(main_curl);
    main_curl = NULL;
    curl_global_cleanup();
    return rc;
}

/* ==== HTTP client ============================================================= */

struct resp {
    long status; /* 0 when no HTTP answer arrived */
    CURLcode cc;
    char *body;
    size_t len, cap;
    char etag[64], location[600], allow[128], ctype[128];
    json_t *json; /* the body parsed, when it is JSON */
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    size_t k = size * n;
    if (r->len + k + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + k + 1)
            cap *= 2;
        if (cap > ((size_t)64 << 20))
            return 0; /* refuse absurd answers */
        char *grown = realloc(r->body, cap);
        if (!grown)
            return 0;
        r->body = grown;
        r->cap = cap;
    }
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = '\0';
    return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    size_t k = size * n;
    const char *colon = memchr(p, ':', k);
    if (!colon)
        return k;
    size_t nl = (size_t)(colon - p);
    const char *v = colon + 1;
    size_t vl = k - nl - 1;
    while (vl && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    char *dst = NULL;
    size_t cap = 0;
    if (nl == 4 && strncasecmp(p, "ETag", 4) == 0) {
        dst = r->etag;
        cap = sizeof r->etag;
    } else if (nl == 8 && strncasecmp(p, "Location", 8) == 0) {
        dst = r->location;
        cap = sizeof r->location;
    } else if (nl == 5 && strncasecmp(p, "Allow", 5) == 0) {
        dst = r->allow;
        cap = sizeof r->allow;
    } else if (nl == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
        dst = r->ctype;
        cap = sizeof r->ctype;
    }
    if (dst) {
        if (vl >= cap)
            vl = cap - 1;
        memcpy(dst, v, vl);
        dst[vl] = '\0';
    }
    return k;
}

/** One request.  h: a curl handle (NULL: the main thread's).  body may be NULL
 *  (no body); hdrs: extra header lines separated by '\n' (or NULL).  A body gets
 *  Content-Type: application/json unless hdrs names a Content-Type.  Safe to call
 *  from any thread with its own handle; never asserts. */
static void http_do(CURL *h, resp *r, const char *method, const char *path, const char *body,
                    size_t len, const char *hdrs)
{
    memset(r, 0, sizeof *r);
    if (!h)
        h = main_curl;
    curl_easy_reset(h);
    size_t ul = strlen(srv.base) + strlen(path) + 1;
    char *url = malloc(ul);
    if (!url) {
        r->cc = CURLE_OUT_OF_MEMORY;
        return;
    }
    snprintf(url, ul, "%s%s", srv.base, path);
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    bool has_ct = false;
    if (hdrs) {
        const char *s = hdrs;
        while (*s) {
            size_t n = strcspn(s, "\n");
            char *line = strndup(s, n);
            if (line) {
                if (strncasecmp(line, "Content-Type:", 13) == 0)
                    has_ct = true;
                hl = curl_slist_append(hl, line);
                free(line);
            }
            s += n;
            if (*s == '\n')
                s++;
        }
    }
    if (body && !has_ct)
        hl = curl_slist_append(hl, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    r->cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->len && strncasecmp(r->ctype, "application/json", 16) == 0)
        r->json = json_loadb(r->body, r->len, 0, NULL);
    curl_slist_free_all(hl);
    free(url);
}

static void resp_free(resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static void GET(resp *r, const char *path)
{
    http_do(NULL, r, "GET", path, NULL, 0, NULL);
}

static void SEND(resp *r, const char *method, const char *path, const char *json, const char *hdrs)
{
    http_do(NULL, r, method, path, json, json ? strlen(json) : 0, hdrs);
}

static bool healthz_ok(void)
{
    resp r;
    GET(&r, "/healthz");
    bool ok = r.status == 200;
    resp_free(&r);
    return ok;
}

/** A path built printf-style in one of 8 rotating buffers (main thread only). */
__attribute__((format(printf, 1, 2))) static const char *pf(const char *fmt, ...)
{
    static char ring[8][2048];
    static unsigned k;
    char *b = ring[k++ & 7];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof ring[0], fmt, ap);
    va_end(ap);
    return b;
}

/* ==== assertions ================================================================ */

#define EXPECT_STATUS(r, code)                                                                     \
    do {                                                                                           \
        if ((r)->status != (code))                                                                 \
            fail_msg("expected HTTP %ld, got %ld (curl: %s): %.800s", (long)(code), (r)->status,   \
                     curl_easy_strerror((r)->cc), (r)->body ? (r)->body : "");                     \
    } while (0)

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_int_t jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("'%s' is not an integer", key);
    return json_integer_value(v);
}

static bool starts_with(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/** The answer is the error shape {"error":{status,code,message[,fields]}} with
 *  status equal to the HTTP status (and code, if given). */
static void expect_error(const resp *r, long status, const char *code)
{
    EXPECT_STATUS(r, status);
    if (!starts_with(r->ctype, "application/json"))
        fail_msg("error %ld has Content-Type '%s'", status, r->ctype);
    if (!json_is_object(r->json))
        fail_msg("error %ld is not a JSON object: %.300s", status, r->body ? r->body : "");
    const json_t *e = json_object_get(r->json, "error");
    if (!json_is_object(e) || json_object_size(r->json) != 1)
        fail_msg("not the error shape: %.300s", r->body);
    assert_true(json_is_integer(json_object_get(e, "status")));
    assert_int_equal(jint(e, "status"), status);
    const char *c = jstr(e, "code"), *m = jstr(e, "message");
    assert_non_null(c);
    assert_non_null(m);
    assert_true(m[0] != '\0');
    if (code && strcmp(c, code) != 0)
        fail_msg("expected code %s, got %s: %.300s", code, c, r->body);
    const json_t *fields = json_object_get(e, "fields");
    if (fields) {
        assert_true(json_is_array(fields));
        size_t i;
        json_t *f;
        json_array_foreach (fields, i, f) {
            assert_non_null(jstr(f, "field"));
            assert_non_null(jstr(f, "rule"));
            assert_non_null(jstr(f, "message"));
        }
    }
}

/** The error.fields entry for field/rule, or NULL. */
static const json_t *field_error(const resp *r, const char *field, const char *rule)
{
    const json_t *fields = json_object_get(json_object_get(r->json, "error"), "fields");
    size_t i;
    json_t *f;
    json_array_foreach (fields, i, f) {
        if (strcmp(jstr(f, "field"), field) == 0 && strcmp(jstr(f, "rule"), rule) == 0)
            return f;
    }
    return NULL;
}

static void expect_field_error(const resp *r, const char *field, const char *rule)
{
    if (!field_error(r, field, rule))
        fail_msg("no error on %s (rule %s) in: %.1000s", field, rule, r->body);
}

static size_t error_field_count(const resp *r)
{
    return json_array_size(json_object_get(json_object_get(r->json, "error"), "fields"));
}

/* ==== helpers on the API ========================================================= */

/** Creates a case (asserting 201); copies its id and reference when asked. */
static void create_case(const char *body, char id[64], char ref[32])
{
    resp r;
    SEND(&r, "POST", "/api/v1/cases", body, NULL);
    EXPECT_STATUS(&r, 201);
    assert_non_null(r.json);
    if (id)
        snprintf(id, 64, "%s", jstr(r.json, "id"));
    if (ref)
        snprintf(ref, 32, "%s", jstr(r.json, "reference"));
    resp_free(&r);
}

/** total of GET /api/v1/cases?query (asserting 200). */
static json_int_t list_total(const char *query)
{
    resp r;
    GET(&r, pf("/api/v1/cases?%s", query));
    EXPECT_STATUS(&r, 200);
    json_int_t t = jint(r.json, "total");
    resp_free(&r);
    return t;
}

static json_int_t healthz_cases(void)
{
    resp r;
    GET(&r, "/healthz");
    EXPECT_STATUS(&r, 200);
    json_int_t n = jint(r.json, "cases");
    resp_free(&r);
    return n;
}

static bool is_reference(const char *s, const char *prefix)
{
    if (!starts_with(s, prefix) || strlen(s) != strlen(prefix) + 6)
        return false;
    for (const char *p = s + strlen(prefix); *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
    }
    return true;
}

#define MINIMAL_CASE TU_MINIMAL_CASE

/* ==== system routes ================================================================ */

static void test_healthz(void **state)
{
    (void)state;
    resp r;
    GET(&r, "/healthz");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.ctype, "application/json"));
    assert_non_null(r.json);
    assert_string_equal(jstr(r.json, "status"), "ok");
    assert_string_equal(jstr(r.json, "engine"), "sqlite");
    assert_true(jint(r.json, "cases") >= 0);
    assert_non_null(jstr(r.json, "version"));
    assert_int_equal(json_object_size(r.json), 4);
    resp_free(&r);

    http_do(NULL, &r, "HEAD", "/healthz", NULL, 0, NULL);
    EXPECT_STATUS(&r, 200);
    assert_int_equal(r.cc, CURLE_OK);
    assert_int_equal(r.len, 0);
    assert_true(starts_with(r.ctype, "application/json"));
    resp_free(&r);
}

static void test_schema_and_openapi(void **state)
{
    (void)state;
    resp r;
    GET(&r, "/api/v1/schema");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.ctype, "application/json"));
    assert_non_null(r.json);
    assert_true(json_array_size(json_object_get(r.json, "fields")) > 50);
    assert_true(json_array_size(json_object_get(r.json, "entities")) >= 5);
    /* a picklist value as documented */
    bool found = false;
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get(r.json, "fields"), i, f) {
        if (!jstr(f, "name") || strcmp(jstr(f, "name"), "prs_Gender") != 0)
            continue;
        size_t k;
        json_t *v;
        json_array_foreach (json_object_get(f, "values"), k, v) {
            if (jstr(v, "name") && strcmp(jstr(v, "name"), "Feminine") == 0)
                found = true;
        }
    }
    assert_true(found);
    resp_free(&r);

    GET(&r, "/api/v1/openapi.yaml");
    EXPECT_STATUS(&r, 200);
    assert_true(starts_with(r.ctype, "application/yaml"));
    assert_true(r.len > 1000);
    assert_true(starts_with(r.body, "openapi:"));
    assert_null(r.json);
    resp_free(&r);
}

static void test_unknown_route_and_method(void **state)
{
    (void)state;
    resp r;
    GET(&r, "/api/v1/nothing-here");
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, "/nope");
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, "/api/v2/cases");
    expect_error(&r, 404, "not_found");
    resp_free(&r);

    SEND(&r, "DELETE", "/api/v1/cases", NULL, NULL);
    expect_error(&r, 405, "method_not_allowed");
    assert_non_null(strstr(r.allow, "GET"));
    assert_non_null(strstr(r.allow, "POST"));
    assert_null(strstr(r.allow, "DELETE"));
    resp_free(&r);

    SEND(&r, "PUT", "/healthz", MINIMAL_CASE, NULL);
    expect_error(&r, 405, "method_not_allowed");
    assert_string_equal(r.allow, "GET");
    resp_free(&r);

    SEND(&r, "PATCH", "/api/v1/organisations", "{}", NULL);
    expect_error(&r, 405, "method_not_allowed");
    assert_non_null(strstr(r.allow, "GET"));
    resp_free(&r);

    /* one trailing slash is tolerated */
    GET(&r, "/api/v1/cases/?limit=1");
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
}

/* ==== creating and reading cases ==================================================== */

static const char full_case[] =
    "{\"prs_FirstName\": \"Luz Marina\", \"prs_SecondName\": \"Cárdenas Ortiz\","
    " \"prs_Birthdate\": \"1999-03-14\", \"prs_Gender\": \"Feminine\", \"prs_Citizenship\": "
    "[\"CO\"],"
    " \"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
    " \"vic_TypeOfExploitation\": [\"SexualExploitation\"],"
    " \"vic_TypeOfSexExploitation\": [\"Prostitution\"],"
    " \"events\": ["
    "  {\"hte_Type\": \"Exploitation\", \"hte_Country\": \"EC\", \"hte_City\": \"Quito\", "
    "\"amp_EventSequence\": 3},"
    "  {\"hte_Type\": \"Recruitment\", \"hte_Country\": \"CO\", \"hte_City\": \"Pereira\", "
    "\"amp_EventSequence\": 1, \"hte_Date\": \"2025-10-01\"},"
    "  {\"hte_Type\": \"Transit\", \"hte_Country\": \"CO\", \"hte_City\": \"Ipiales\", "
    "\"amp_EventSequence\": 2}],"
    " \"comments\": [{\"cco_CaseComment\": \"First interview at the shelter.\"}]}";

static void test_create_case_and_read_back(void **state)
{
    (void)state;
    resp r, g;
    json_int_t before = healthz_cases();
    SEND(&r, "POST", "/api/v1/cases", full_case, NULL);
    EXPECT_STATUS(&r, 201);
    assert_non_null(r.json);
    const char *id = jstr(r.json, "id"), *ref = jstr(r.json, "reference");
    assert_non_null(id);
    assert_int_equal(strlen(id), 36);
    if (!is_reference(ref, "EC-2026-"))
        fail_msg("reference '%s' is not EC-2026-NNNNNN", ref ? ref : "(null)");
    assert_string_equal(r.location, pf("/api/v1/cases/%s", id));
    assert_string_equal(r.etag, "\"1\"");
    assert_int_equal(jint(r.json, "version"), 1);
    assert_string_equal(jstr(r.json, "cas_Status"), "Active");
    assert_string_equal(jstr(r.json, "amp_RegistrationDate"), TEST_TODAY);
    assert_string_equal(jstr(r.json, "amp_RegistrationCountry"), "EC");
    assert_string_equal(jstr(r.json, "created_by"), "local");
    assert_string_equal(jstr(r.json, "prs_SecondName"), "Cárdenas Ortiz");
    assert_non_null(jstr(r.json, "created_at"));
    const json_t *events = json_object_get(r.json, "events");
    assert_int_equal(json_array_size(events), 3);
    /* route order: amp_EventSequence */
    assert_string_equal(jstr(json_array_get(events, 0), "hte_City"), "Pereira");
    assert_string_equal(jstr(json_array_get(events, 1), "hte_City"), "Ipiales");
    assert_string_equal(jstr(json_array_get(events, 2), "hte_City"), "Quito");
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(jint(json_array_get(events, i), "version"), 1);
        assert_int_equal(strlen(jstr(json_array_get(events, i), "id")), 36);
    }
    assert_int_equal(json_array_size(json_object_get(r.json, "comments")), 1);
    assert_string_equal(
        jstr(json_array_get(json_object_get(r.json, "comments"), 0), "cco_CaseComment"),
        "First interview at the shelter.");
    assert_true(json_is_array(json_object_get(r.json, "support_plans")));
    assert_int_equal(json_array_size(json_object_get(r.json, "support_plans")), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "perpetrators")), 0);

    /* by id and by reference: the same record */
    GET(&g, pf("/api/v1/cases/%s", id));
    EXPECT_STATUS(&g, 200);
    assert_string_equal(g.etag, "\"1\"");
    if (!json_equal(g.json, r.json))
        fail_msg("GET by id differs from the 201 body:\n%s\n%s", g.body, r.body);
    resp_free(&g);
    GET(&g, pf("/api/v1/cases/%s", ref));
    EXPECT_STATUS(&g, 200);
    assert_string_equal(g.etag, "\"1\"");
    if (!json_equal(g.json, r.json))
        fail_msg("GET by reference differs from the 201 body:\n%s\n%s", g.body, r.body);
    resp_free(&g);

    /* listed by reference, without its child arrays */
    GET(&g, pf("/api/v1/cases?reference=%s", ref));
    EXPECT_STATUS(&g, 200);
    assert_int_equal(jint(g.json, "total"), 1);
    const json_t *item = json_array_get(json_object_get(g.json, "items"), 0);
    assert_string_equal(jstr(item, "id"), id);
    assert_null(json_object_get(item, "events"));
    resp_free(&g);

    assert_int_equal(healthz_cases(), before + 1);

    /* no such case */
    GET(&g, "/api/v1/cases/0195a3c2-7e41-7b8a-9c1d-2f4e6a8b0c13");
    expect_error(&g, 404, "not_found");
    resp_free(&g);
    GET(&g, "/api/v1/cases/EC-2026-999999");
    expect_error(&g, 404, "not_found");
    resp_free(&g);
    resp_free(&r);
}

static void test_create_refuses_server_keys(void **state)
{
    (void)state;
    resp r;
    SEND(&r, "POST", "/api/v1/cases",
         "{\"id\": \"x\", \"reference\": \"EC-2026-000001\", \"version\": 7,"
         " \"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\"}",
         NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "id", "read_only");
    expect_field_error(&r, "reference", "read_only");
    expect_field_error(&r, "version", "read_only");
    resp_free(&r);
}

/* ==== validation ================================================================== */

static const char invalid_case[] =
    "{\"prs_Gender\": \"Female\", \"amp_NotAField\": 1,"
    " \"events\": [{\"hte_Type\": \"Exploitation\", \"hte_Country\": \"XX\","
    " \"hte_Date\": \"2027-01-01\"}, {\"hte_City\": \"Quito\"}]}";

static void test_validation_lists_every_field(void **state)
{
    (void)state;
    json_int_t before = list_total("limit=1");
    json_int_t hbefore = healthz_cases();
    resp r;
    SEND(&r, "POST", "/api/v1/cases", invalid_case, NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "prs_Gender", "picklist");
    expect_field_error(&r, "amp_NotAField", "unknown_field");
    expect_field_error(&r, "vic_TraffickingStatus", "required");
    expect_field_error(&r, "events[0].hte_Country", "country");
    expect_field_error(&r, "events[0].hte_Date", "not_future");
    expect_field_error(&r, "events[1].hte_Type", "required");
    assert_int_equal(error_field_count(&r), 6);
    assert_string_equal(jstr(json_object_get(r.json, "error"), "message"), "6 fields are invalid");
    const char *m = jstr(field_error(&r, "prs_Gender", "picklist"), "message");
    assert_string_equal(m, "prs_Gender: 'Female' is not one of the allowed values");
    /* AMPARO_TODAY is the server's today */
    m = jstr(field_error(&r, "events[0].hte_Date", "not_future"), "message");
    assert_non_null(strstr(m, TEST_TODAY));
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", invalid_case, "Accept-Language: fr-CH, fr;q=0.9, en;q=0.8");
    expect_error(&r, 422, "validation_failed");
    assert_int_equal(error_field_count(&r), 6);
    assert_string_equal(jstr(json_object_get(r.json, "error"), "message"),
                        "6 champ(s) non valides");
    m = jstr(field_error(&r, "prs_Gender", "picklist"), "message");
    assert_non_null(strstr(m, "ne fait pas partie des valeurs autorisées"));
    m = jstr(field_error(&r, "vic_TraffickingStatus", "required"), "message");
    assert_string_equal(m, "vic_TraffickingStatus est obligatoire");
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", invalid_case, "Accept-Language: es");
    expect_error(&r, 422, "validation_failed");
    assert_string_equal(jstr(json_object_get(r.json, "error"), "message"),
                        "6 campo(s) no son válidos");
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", invalid_case, "Accept-Language: de, uk;q=0.5");
    expect_error(&r, 422, "validation_failed");
    assert_string_equal(jstr(json_object_get(r.json, "error"), "message"), "Недійсних полів: 6");
    resp_free(&r);

    /* other rules */
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
         " \"cas_Status\": \"Closed\", \"prs_Birthdate\": \"1999-02-30\","
         " \"prs_Citizenship\": \"CO\", \"prs_Email\": \"nope\","
         " \"vic_ForcedLabourIndustry\": \"F_Construction\"}",
         NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "cas_ReasonForCaseClosure", "required_if");
    expect_field_error(&r, "prs_Birthdate", "date");
    expect_field_error(&r, "prs_Citizenship", "type");
    expect_field_error(&r, "prs_Email", "email");
    expect_field_error(&r, "vic_ForcedLabourIndustry", "applies_if");
    resp_free(&r);

    /* nothing was stored */
    assert_int_equal(list_total("limit=1"), before);
    assert_int_equal(healthz_cases(), hbefore);
}

/* ==== malformed requests ============================================================ */

/* {"a":{"a":…{}…}}: `depth` nested objects. */
static char *nested_objects(int depth)
{
    size_t n = (size_t)depth * 6 + 8;
    char *s = xmalloc(n), *w = s;
    for (int i = 0; i < depth - 1; i++) {
        memcpy(w, "{\"a\":", 5);
        w += 5;
    }
    memcpy(w, "{}", 2);
    w += 2;
    for (int i = 0; i < depth - 1; i++)
        *w++ = '}';
    *w = '\0';
    return s;
}

static void test_malformed_bodies(void **state)
{
    (void)state;
    json_int_t before = healthz_cases();
    resp r;
    const json_t *f;

    SEND(&r, "POST", "/api/v1/cases", "{\"vic_TraffickingStatus\": }", NULL);
    expect_error(&r, 400, "bad_request");
    f = json_array_get(json_object_get(json_object_get(r.json, "error"), "fields"), 0);
    assert_string_equal(jstr(f, "rule"), "json");
    assert_non_null(strstr(jstr(f, "message"), "line 1"));
    assert_non_null(strstr(jstr(f, "message"), "column"));
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", "{\n  \"prs_Gender\": \"Feminine\",\n  oops\n}", NULL);
    expect_error(&r, 400, "bad_request");
    f = json_array_get(json_object_get(json_object_get(r.json, "error"), "fields"), 0);
    assert_string_equal(jstr(f, "rule"), "json");
    assert_non_null(strstr(jstr(f, "message"), "line 3"));
    assert_non_null(strstr(jstr(json_object_get(r.json, "error"), "message"), "line 3"));
    resp_free(&r);

    /* nesting: 33 is refused by the depth rule, 32 is parsed */
    char *deep = nested_objects(33);
    SEND(&r, "POST", "/api/v1/cases", deep, NULL);
    expect_error(&r, 400, "bad_request");
    expect_field_error(&r, "body", "depth");
    resp_free(&r);
    free(deep);
    deep = nested_objects(32);
    SEND(&r, "POST", "/api/v1/cases", deep, NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "a", "unknown_field");
    resp_free(&r);
    free(deep);
    /* brackets inside strings do not count */
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\", \"prs_FirstName\":"
         " \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\\\"\"}",
         NULL);
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
    before++;

    SEND(&r, "POST", "/api/v1/cases",
         "{\"prs_Gender\": \"Feminine\", \"prs_Gender\": \"Masculine\","
         " \"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\"}",
         NULL);
    expect_error(&r, 400, "bad_request");
    expect_field_error(&r, "body", "json");
    assert_non_null(strstr(r.body, "duplicate"));
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", "[" MINIMAL_CASE "]", NULL);
    expect_error(&r, 400, "bad_request");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/cases", "\"just a string\"", NULL);
    expect_error(&r, 400, "bad_request");
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", "", NULL);
    expect_error(&r, 400, "bad_request");
    resp_free(&r);
    http_do(NULL, &r, "POST", "/api/v1/cases", NULL, 0, "Content-Type: application/json");
    expect_error(&r, 400, "bad_request");
    resp_free(&r);

    SEND(&r, "POST", "/api/v1/cases", MINIMAL_CASE, "Content-Type: text/plain");
    expect_error(&r, 415, "unsupported_media_type");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/cases", MINIMAL_CASE,
         "Content-Type: application/x-www-form-urlencoded");
    expect_error(&r, 415, "unsupported_media_type");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/cases", MINIMAL_CASE, "Content-Type: application/jsonp");
    expect_error(&r, 415, "unsupported_media_type");
    resp_free(&r);
    /* parameters of the media type are fine */
    SEND(&r, "POST", "/api/v1/cases", MINIMAL_CASE,
         "Content-Type: application/json; charset=utf-8");
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
    before++;

    /* 1.2 MiB: over the limit */
    size_t big = 1258291;
    char *huge = xmalloc(big + 1);
    memset(huge, 'x', big);
    memcpy(huge, "{\"prs_FirstName\": \"", 19);
    memcpy(huge + big - 2, "\"}", 2);
    huge[big] = '\0';
    SEND(&r, "POST", "/api/v1/cases", huge, NULL);
    expect_error(&r, 413, "too_large");
    resp_free(&r);
    /* just under 1 MiB is read (and refused by validation) */
    size_t under = 1000000;
    memcpy(huge + under - 2, "\"}", 3);
    SEND(&r, "POST", "/api/v1/cases", huge, NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "prs_FirstName", "max_length");
    resp_free(&r);
    free(huge);

    /* invalid UTF-8, an escaped NUL */
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\", \"prs_FirstName\": "
         "\"\xff\xfe\xc3\"}",
         NULL);
    expect_error(&r, 400, "bad_request");
    expect_field_error(&r, "body", "json");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\", \"prs_FirstName\": "
         "\"a\\u0000b\"}",
         NULL);
    expect_error(&r, 400, "bad_request");
    resp_free(&r);
    /* a raw NUL byte inside the body */
    static const char with_nul[] = "{\"vic_TraffickingStatus\": \"PossibleVic\0\"}";
    http_do(NULL, &r, "POST", "/api/v1/cases", with_nul, sizeof with_nul - 1, NULL);
    expect_error(&r, 400, "bad_request");
    resp_free(&r);

    assert_int_equal(healthz_cases(), before);
}

/* ==== PATCH and history ================================================================ */

static void test_patch_versions_and_history(void **state)
{
    (void)state;
    char id[64], ref[32];
    create_case("{\"prs_FirstName\": \"Ana\", \"prs_MiddleName\": \"María\","
                " \"prs_Gender\": \"Feminine\","
                " \"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\"}",
                id, ref);
    const char *path = pf("/api/v1/cases/%s", id);
    char p[128];
    snprintf(p, sizeof p, "%s", path);
    resp r;

    SEND(&r, "PATCH", p, "{\"cas_Status\": \"FollowUp\"}", NULL);
    expect_error(&r, 428, "precondition_required");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"cas_Status\": \"FollowUp\"}", "If-Match: \"7\"");
    expect_error(&r, 412, "precondition_failed");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"version\": 3, \"cas_Status\": \"FollowUp\"}", NULL);
    expect_error(&r, 409, "version_conflict");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"cas_Status\": \"FollowUp\"}", "If-Match: abc");
    expect_error(&r, 400, "bad_request");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"version\": \"1\", \"cas_Status\": \"FollowUp\"}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "version", "type");
    resp_free(&r);
    SEND(&r, "PATCH", p, "[1]", "If-Match: \"1\"");
    expect_error(&r, 400, "bad_request");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"cas_Status\": \"FollowUp\"}",
         "If-Match: \"1\"\nContent-Type: text/plain");
    expect_error(&r, 415, "unsupported_media_type");
    resp_free(&r);
    /* child arrays, server keys and bad values are refused with the right version */
    SEND(&r, "PATCH", p, "{\"events\": [], \"cas_Status\": \"FollowUp\"}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "events", "sub_resource");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"support-plans\": []}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "support-plans", "sub_resource");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"reference\": \"EC-2026-000001\"}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "reference", "read_only");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"cas_Status\": \"Bogus\"}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "cas_Status", "picklist");
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"cas_Status\": \"Closed\"}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "cas_ReasonForCaseClosure", "required_if");
    resp_free(&r);
    SEND(&r, "PATCH", "/api/v1/cases/EC-2026-999999", "{\"cas_Status\": \"FollowUp\"}",
         "If-Match: \"1\"");
    expect_error(&r, 404, "not_found");
    resp_free(&r);

    /* nothing changed */
    GET(&r, p);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(r.etag, "\"1\"");
    assert_int_equal(jint(r.json, "version"), 1);
    assert_string_equal(jstr(r.json, "cas_Status"), "Active");
    assert_string_equal(jstr(r.json, "prs_MiddleName"), "María");
    resp_free(&r);

    /* the right If-Match; null removes a field */
    SEND(&r, "PATCH", p, "{\"cas_Status\": \"FollowUp\", \"prs_MiddleName\": null}",
         "If-Match: \"1\"\nContent-Type: application/merge-patch+json");
    EXPECT_STATUS(&r, 200);
    assert_string_equal(r.etag, "\"2\"");
    assert_int_equal(jint(r.json, "version"), 2);
    assert_string_equal(jstr(r.json, "cas_Status"), "FollowUp");
    assert_null(json_object_get(r.json, "prs_MiddleName"));
    assert_string_equal(jstr(r.json, "prs_FirstName"), "Ana");
    assert_string_equal(jstr(r.json, "reference"), ref);
    assert_true(json_is_array(json_object_get(r.json, "events")));
    resp_free(&r);
    GET(&r, p);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(r.etag, "\"2\"");
    assert_null(json_object_get(r.json, "prs_MiddleName"));
    assert_string_equal(jstr(r.json, "cas_Status"), "FollowUp");
    resp_free(&r);

    /* a patch that changes nothing keeps the version */
    SEND(&r, "PATCH", p, "{\"version\": 2, \"cas_Status\": \"FollowUp\"}", NULL);
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "version"), 2);
    assert_string_equal(r.etag, "\"2\"");
    resp_free(&r);

    /* by reference, version in the body; W/ tags are accepted too */
    SEND(&r, "PATCH", pf("/api/v1/cases/%s", ref),
         "{\"version\": 2, \"prs_FirstName\": \"Ana Lucía\"}", NULL);
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "version"), 3);
    resp_free(&r);
    SEND(&r, "PATCH", p, "{\"prs_SecondName\": \"Quispe\"}", "If-Match: W/\"3\"");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "version"), 4);
    resp_free(&r);

    /* history: create and updates, names of changed fields only */
    GET(&r, pf("/api/v1/cases/%s/history", ref));
    EXPECT_STATUS(&r, 200);
    const json_t *items = json_object_get(r.json, "items");
    if (json_array_size(items) != 4)
        fail_msg("expected 4 history entries: %s", r.body);
    const json_t *h0 = json_array_get(items, 0), *h1 = json_array_get(items, 1),
                 *h2 = json_array_get(items, 2), *h3 = json_array_get(items, 3);
    assert_string_equal(jstr(h0, "action"), "create");
    assert_int_equal(jint(h0, "version"), 1);
    assert_string_equal(jstr(h0, "actor"), "local");
    assert_true(json_is_null(json_object_get(h0, "target")));
    assert_non_null(jstr(h0, "at"));
    assert_string_equal(jstr(h1, "action"), "update");
    assert_int_equal(jint(h1, "version"), 2);
    const json_t *fields = json_object_get(h1, "fields");
    assert_int_equal(json_array_size(fields), 2);
    bool status_seen = false, middle_seen = false;
    size_t i;
    json_t *v;
    json_array_foreach (fields, i, v) {
        status_seen |= strcmp(json_string_value(v), "cas_Status") == 0;
        middle_seen |= strcmp(json_string_value(v), "prs_MiddleName") == 0;
    }
    assert_true(status_seen && middle_seen);
    assert_int_equal(jint(h2, "version"), 3);
    assert_int_equal(json_array_size(json_object_get(h2, "fields")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(h2, "fields"), 0)),
                        "prs_FirstName");
    assert_int_equal(jint(h3, "version"), 4);
    /* never values */
    assert_null(strstr(r.body, "María"));
    assert_null(strstr(r.body, "Lucía"));
    assert_null(strstr(r.body, "FollowUp"));
    assert_null(strstr(r.body, "Quispe"));
    resp_free(&r);

    GET(&r, "/api/v1/cases/EC-2026-999999/history");
    expect_error(&r, 404, "not_found");
    resp_free(&r);
}

/* ==== child records ================================================================== */

static void test_children(void **state)
{
    (void)state;
    char id[64], ref[32], other[64];
    create_case(MINIMAL_CASE, id, ref);
    create_case(MINIMAL_CASE, other, NULL);
    char base[128], q[200];
    snprintf(base, sizeof base, "/api/v1/cases/%s", id);
    resp r;

    SEND(&r, "POST", pf("%s/events", base),
         "{\"hte_Type\": \"Exploitation\", \"hte_Country\": \"PE\", \"hte_City\": \"Lima\","
         " \"hte_Date\": \"2025-11-20\"}",
         NULL);
    EXPECT_STATUS(&r, 201);
    char eid[64];
    snprintf(eid, sizeof eid, "%s", jstr(r.json, "id"));
    assert_string_equal(r.location, pf("%s/events/%s", base, eid));
    assert_string_equal(r.etag, "\"1\"");
    assert_int_equal(jint(r.json, "version"), 1);
    assert_string_equal(jstr(r.json, "hte_City"), "Lima");
    resp_free(&r);

    /* the event feeds the country_of_exploitation filter */
    snprintf(q, sizeof q, "reference=%s&country_of_exploitation=PE", ref);
    assert_int_equal(list_total(q), 1);

    GET(&r, pf("%s/events", base));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    assert_string_equal(jstr(json_array_get(json_object_get(r.json, "items"), 0), "id"), eid);
    resp_free(&r);
    GET(&r, pf("%s/events/%s", base, eid));
    EXPECT_STATUS(&r, 200);
    assert_string_equal(r.etag, "\"1\"");
    assert_string_equal(jstr(r.json, "hte_Country"), "PE");
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s/events/%s", ref, eid));
    EXPECT_STATUS(&r, 200);
    resp_free(&r);

    /* a child is only found under its own case and collection */
    GET(&r, pf("/api/v1/cases/%s/events/%s", other, eid));
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, pf("%s/comments/%s", base, eid));
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    SEND(&r, "PATCH", pf("/api/v1/cases/%s/events/%s", other, eid), "{\"hte_City\": \"X\"}",
         "If-Match: \"1\"");
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    SEND(&r, "DELETE", pf("/api/v1/cases/%s/events/%s", other, eid), NULL, NULL);
    expect_error(&r, 404, "not_found");
    resp_free(&r);

    /* PATCH */
    SEND(&r, "PATCH", pf("%s/events/%s", base, eid), "{\"hte_City\": \"Cusco\"}", NULL);
    expect_error(&r, 428, "precondition_required");
    resp_free(&r);
    SEND(&r, "PATCH", pf("%s/events/%s", base, eid), "{\"hte_Type\": \"Nope\"}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "hte_Type", "picklist");
    resp_free(&r);
    SEND(&r, "PATCH", pf("%s/events/%s", base, eid), "{\"hte_City\": \"Cusco\"}",
         "If-Match: \"1\"\nContent-Type: application/merge-patch+json");
    EXPECT_STATUS(&r, 200);
    assert_string_equal(r.etag, "\"2\"");
    assert_int_equal(jint(r.json, "version"), 2);
    assert_string_equal(jstr(r.json, "hte_City"), "Cusco");
    resp_free(&r);
    SEND(&r, "PATCH", pf("%s/events/%s", base, eid), "{\"hte_City\": \"Arequipa\"}",
         "If-Match: \"1\"");
    expect_error(&r, 412, "precondition_failed");
    resp_free(&r);
    SEND(&r, "PATCH", pf("%s/events/%s", base, eid), "{\"version\": 1, \"hte_City\": \"Arequipa\"}",
         NULL);
    expect_error(&r, 409, "version_conflict");
    resp_free(&r);

    /* DELETE: stale If-Match refused, then deleted */
    SEND(&r, "DELETE", pf("%s/events/%s", base, eid), NULL, "If-Match: \"1\"");
    expect_error(&r, 412, "precondition_failed");
    resp_free(&r);
    SEND(&r, "DELETE", pf("%s/events/%s", base, eid), NULL, "If-Match: \"2\"");
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "id"), eid);
    assert_true(json_is_true(json_object_get(r.json, "deleted")));
    resp_free(&r);
    GET(&r, pf("%s/events/%s", base, eid));
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    SEND(&r, "DELETE", pf("%s/events/%s", base, eid), NULL, NULL);
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, pf("%s/events", base));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    resp_free(&r);
    assert_int_equal(list_total(q), 0);

    /* support-plans and support_plans are the same collection */
    SEND(&r, "POST", pf("%s/support-plans", base), "{\"spl_Type\": \"Health\"}", NULL);
    EXPECT_STATUS(&r, 201);
    char sid[64];
    snprintf(sid, sizeof sid, "%s", jstr(r.json, "id"));
    resp_free(&r);
    SEND(&r, "POST", pf("%s/support_plans", base), "{\"spl_Type\": \"Legal\"}", NULL);
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
    GET(&r, pf("%s/support_plans", base));
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    resp_free(&r);
    GET(&r, pf("%s/support-plans/%s", base, sid));
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "spl_Type"), "Health");
    resp_free(&r);
    GET(&r, pf("%s/support_plans/%s", base, sid));
    EXPECT_STATUS(&r, 200);
    resp_free(&r);

    /* comments, perpetrators */
    SEND(&r, "POST", pf("%s/comments", base), "{\"cco_CaseComment\": \"Follow-up call.\"}", NULL);
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
    SEND(&r, "POST", pf("%s/comments", base), "{}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "cco_CaseComment", "required");
    resp_free(&r);
    SEND(&r, "POST", pf("%s/comments", base), "{\"id\": \"x\", \"cco_CaseComment\": \"c\"}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "id", "read_only");
    resp_free(&r);
    SEND(&r, "POST", pf("%s/perpetrators", base), "{\"prs_FirstName\": \"Desconocido\"}", NULL);
    EXPECT_STATUS(&r, 201);
    resp_free(&r);

    /* unknown collection, unknown case */
    GET(&r, pf("%s/widgets", base));
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    SEND(&r, "POST", pf("%s/widgets", base), "{}", NULL);
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, pf("%s/widgets/%s", base, sid));
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, "/api/v1/cases/0195a3c2-7e41-7b8a-9c1d-2f4e6a8b0c13/events");
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/cases/EC-2026-999999/comments", "{\"cco_CaseComment\": \"x\"}", NULL);
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    SEND(&r, "PUT", pf("%s/events", base), "{}", NULL);
    expect_error(&r, 405, "method_not_allowed");
    resp_free(&r);

    /* the case carries them all; history names the child operations */
    GET(&r, base);
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "events")), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "support_plans")), 2);
    assert_int_equal(json_array_size(json_object_get(r.json, "comments")), 1);
    assert_int_equal(json_array_size(json_object_get(r.json, "perpetrators")), 1);
    resp_free(&r);
    GET(&r, pf("%s/history", base));
    EXPECT_STATUS(&r, 200);
    const char *want[] = {"create", "event.create", "event.update", "event.delete"};
    const json_t *items = json_object_get(r.json, "items");
    for (size_t k = 0; k < 4; k++) {
        const json_t *h = json_array_get(items, k);
        if (!h || strcmp(jstr(h, "action"), want[k]) != 0)
            fail_msg("history entry %zu is not %s: %s", k, want[k], r.body);
        if (k > 0)
            assert_string_equal(jstr(h, "target"), eid);
    }
    resp_free(&r);
}

/* ==== listing ============================================================================ */

#define NLIST 12

static const char *const list_genders[] = {"Feminine", "Masculine", "TransgenderFeminine"};

static bool in_status_active(int i)
{
    return i % 2 == 0;
}
static bool has_forced_labour(int i)
{
    return i % 4 == 1 || i % 4 == 2;
}
static bool citizen_pe(int i)
{
    return i % 2 == 1;
}
static bool exploited_in_pe(int i)
{
    return i % 3 == 1;
}
static bool exploited_in_ec(int i)
{
    return i % 3 == 0;
}

static void create_list_dataset(void)
{
    for (int i = 0; i < NLIST; i++) {
        char body[1024];
        const char *expl = i % 4 == 0   ? ", \"vic_TypeOfExploitation\": [\"SexualExploitation\"]"
                           : i % 4 == 1 ? ", \"vic_TypeOfExploitation\": [\"ForcedLabour\"]"
                           : i % 4 == 2 ? ", \"vic_TypeOfExploitation\": [\"SexualExploitation\", "
                                          "\"ForcedLabour\"]"
                                        : "";
        const char *event = i % 3 == 0 ? "{\"hte_Type\": \"Exploitation\", \"hte_Country\": \"EC\"}"
                            : i % 3 == 1
                                ? "{\"hte_Type\": \"Exploitation\", \"hte_Country\": \"PE\"}"
                                : "{\"hte_Type\": \"Recruitment\", \"hte_Country\": \"EC\"}";
        snprintf(body, sizeof body,
                 "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
                 " \"prs_Gender\": \"%s\", \"cas_Status\": \"%s\", \"prs_Citizenship\": %s,"
                 " \"amp_RegistrationDate\": \"2019-01-%02d\", \"amp_RegistrationCountry\": \"%s\""
                 "%s, \"events\": [%s]}",
                 list_genders[i % 3], in_status_active(i) ? "Active" : "FollowUp",
                 citizen_pe(i) ? "[\"VE\", \"PE\"]" : "[\"CO\"]", 10 + i, i < 3 ? "PE" : "EC", expl,
                 event);
        create_case(body, NULL, NULL);
    }
}

#define B "registered_from=2019-01-01&registered_to=2019-12-31"

/** The references of one page of GET /api/v1/cases?query, appended to refs. */
static size_t list_page(const char *query, char refs[][32], size_t at, json_int_t *total)
{
    resp r;
    GET(&r, pf("/api/v1/cases?%s", query));
    EXPECT_STATUS(&r, 200);
    const json_t *items = json_object_get(r.json, "items");
    size_t n = json_array_size(items);
    for (size_t i = 0; i < n && at + i < 64; i++)
        snprintf(refs[at + i], 32, "%s", jstr(json_array_get(items, i), "reference"));
    if (total)
        *total = jint(r.json, "total");
    resp_free(&r);
    return n;
}

static void test_list_filters_sort_paging(void **state)
{
    (void)state;
    create_list_dataset();
    int expect_active = 0, expect_masc = 0, expect_fl = 0, expect_pe = 0, expect_coe_pe = 0,
        expect_coe_ec = 0, expect_fl_active = 0, expect_combo = 0;
    for (int i = 0; i < NLIST; i++) {
        expect_active += in_status_active(i);
        expect_masc += i % 3 == 1;
        expect_fl += has_forced_labour(i);
        expect_pe += citizen_pe(i);
        expect_coe_pe += exploited_in_pe(i);
        expect_coe_ec += exploited_in_ec(i);
        expect_fl_active += has_forced_labour(i) && in_status_active(i);
        expect_combo += i % 3 == 0 && !citizen_pe(i) && exploited_in_ec(i);
    }
    struct {
        const char *query;
        int total;
    } cases[] = {
        {B, NLIST},
        {B "&status=Active", expect_active},
        {B "&status=Active,FollowUp", NLIST},
        {B "&status=Active&status=FollowUp", NLIST},
        {B "&status=Closed", 0},
        {B "&gender=Masculine", expect_masc},
        {B "&exploitation=ForcedLabour", expect_fl},
        {B "&exploitation=ChildLabour,ForcedLabour", expect_fl},
        {B "&exploitation=ForcedLabour&status=Active", expect_fl_active},
        {B "&citizenship=PE", expect_pe},
        {B "&citizenship=CO", NLIST - expect_pe},
        {B "&citizenship=CO%2CVE", NLIST},
        {B "&country_of_exploitation=PE", expect_coe_pe},
        {B "&country_of_exploitation=EC", expect_coe_ec},
        {B "&country_of_exploitation=EC,PE", expect_coe_ec + expect_coe_pe},
        {B "&gender=Feminine&citizenship=CO&country_of_exploitation=EC", expect_combo},
        {B "&trafficking_status=PossibleVictimOfTrafficking", NLIST},
        {"registered_from=2019-01-12&registered_to=2019-01-14", 3},
        {"registered_from=2019-01-21&registered_to=2019-01-21", 1},
        {"registered_to=2019-01-09&registered_from=2019-01-01", 0},
        {"reference=PE-2019", 3},
        {"reference=EC-2019", NLIST - 3},
        {"reference=EC-2019-000004", 1},
        {"reference=EC-2019-0000", NLIST - 3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        json_int_t t = list_total(cases[k].query);
        if (t != cases[k].total)
            fail_msg("?%s: total %lld, expected %d", cases[k].query, (long long)t, cases[k].total);
    }

    /* sort */
    char all[64][32], tmp[64][32];
    json_int_t total;
    size_t n = list_page(B "&sort=reference&limit=100", all, 0, &total);
    assert_int_equal(n, NLIST);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(all[i - 1], all[i]) < 0);
    assert_true(starts_with(all[0], "EC-2019-"));
    assert_true(starts_with(all[NLIST - 1], "PE-2019-"));
    n = list_page(B "&sort=-reference", tmp, 0, NULL);
    assert_int_equal(n, NLIST);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(tmp[i], all[NLIST - 1 - i]);

    resp r;
    const char *sorts[] = {"sort=registered", "sort=-registered", "", "sort=created",
                           "sort=-updated"};
    for (size_t s = 0; s < sizeof sorts / sizeof *sorts; s++) {
        GET(&r, pf("/api/v1/cases?" B "&%s", sorts[s]));
        EXPECT_STATUS(&r, 200);
        const json_t *items = json_object_get(r.json, "items");
        assert_int_equal(json_array_size(items), NLIST);
        assert_int_equal(jint(r.json, "limit"), 50);
        assert_int_equal(jint(r.json, "offset"), 0);
        const char *key = strstr(sorts[s], "registered") || !*sorts[s] ? "amp_RegistrationDate"
                          : strstr(sorts[s], "created")                ? "created_at"
                                                                       : "updated_at";
        bool desc = strchr(sorts[s], '-') || !*sorts[s];
        for (size_t i = 1; i < NLIST; i++) {
            int c = strcmp(jstr(json_array_get(items, i - 1), key),
                           jstr(json_array_get(items, i), key));
            if (desc ? c < 0 : c > 0)
                fail_msg("?%s is not sorted by %s", sorts[s], key);
        }
        assert_null(json_object_get(json_array_get(items, 0), "events"));
        resp_free(&r);
    }

    /* paging: no duplicates, no gaps */
    size_t got = 0;
    for (int off = 0; off < NLIST + 5; off += 5) {
        size_t k = list_page(pf(B "&sort=reference&limit=5&offset=%d", off), tmp, got, &total);
        assert_int_equal(total, NLIST);
        assert_int_equal(k, off + 5 <= NLIST ? 5 : (size_t)(NLIST > off ? NLIST - off : 0));
        got += k;
    }
    assert_int_equal(got, NLIST);
    for (size_t i = 0; i < NLIST; i++)
        assert_string_equal(tmp[i], all[i]);
    GET(&r, "/api/v1/cases?" B "&limit=5&offset=10");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "limit"), 5);
    assert_int_equal(jint(r.json, "offset"), 10);
    resp_free(&r);
    GET(&r, "/api/v1/cases?" B "&limit=500&offset=1000");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    assert_int_equal(jint(r.json, "total"), NLIST);
    resp_free(&r);

    /* bad parameters: 400 naming them */
    struct {
        const char *query, *field, *rule;
    } bad[] = {
        {"limit=501", "limit", "max"},
        {"limit=0", "limit", "max"},
        {"limit=ten", "limit", "max"},
        {"offset=-1", "offset", "min"},
        {"colour=red", "colour", "unknown_parameter"},
        {"status=Bogus", "status", "picklist"},
        {"status=Active,Bogus", "status", "picklist"},
        {"gender=Female", "gender", "picklist"},
        {"citizenship=XX", "citizenship", "picklist"},
        {"country_of_exploitation=Ecuador", "country_of_exploitation", "picklist"},
        {"registered_from=2019-13-01", "registered_from", "date"},
        {"registered_to=yesterday", "registered_to", "date"},
        {"reference=ec-2019", "reference", "reference"},
        {"sort=name", "sort", "picklist"},
        {"owner=no%20spaces", "owner", "lookup"},
        {"reference=%zz", "query", "encoding"},
        {"reference=EC%2", "query", "encoding"},
        {"reference=%0a", "query", "encoding"},
        {"st%atus=Active", "query", "encoding"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        GET(&r, pf("/api/v1/cases?%s", bad[k].query));
        if (r.status != 400)
            fail_msg("?%s: HTTP %ld, expected 400: %.300s", bad[k].query, r.status, r.body);
        expect_error(&r, 400, "bad_request");
        if (!field_error(&r, bad[k].field, bad[k].rule))
            fail_msg("?%s: no error on %s (rule %s): %s", bad[k].query, bad[k].field, bad[k].rule,
                     r.body);
        resp_free(&r);
    }
    GET(&r, "/api/v1/cases?colour=red");
    assert_non_null(
        strstr(jstr(field_error(&r, "colour", "unknown_parameter"), "message"), "colour"));
    resp_free(&r);
    /* every bad parameter is listed */
    GET(&r, "/api/v1/cases?limit=501&colour=red&status=Bogus");
    expect_error(&r, 400, "bad_request");
    assert_int_equal(error_field_count(&r), 3);
    resp_free(&r);
    /* 33 values in one filter: over the limit of 32 */
    char many[600] = "citizenship=";
    for (int k = 0; k < 33; k++)
        strcat(many, k ? ",EC" : "EC");
    GET(&r, pf("/api/v1/cases?%s", many));
    expect_error(&r, 400, "bad_request");
    expect_field_error(&r, "citizenship", "max_items");
    resp_free(&r);
}

/* ==== organisations ==================================================================== */

static void test_organisations(void **state)
{
    (void)state;
    resp r;
    SEND(&r, "PUT", "/api/v1/organisations/fundacion-e2e-quito",
         "{\"org_Name\": \"Fundación E2E Quito\", \"org_ShippingCountry\": \"EC\","
         " \"org_Phone\": \"+59322345678\"}",
         NULL);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "id"), "fundacion-e2e-quito");
    assert_int_equal(jint(r.json, "version"), 1);
    assert_string_equal(jstr(r.json, "org_Name"), "Fundación E2E Quito");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/organisations/fundacion-e2e-quito",
         "{\"org_Name\": \"Fundación E2E Quito (sede norte)\"}", NULL);
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "version"), 2);
    assert_null(json_object_get(r.json, "org_Phone")); /* replaced as a whole */
    resp_free(&r);

    GET(&r, "/api/v1/organisations");
    EXPECT_STATUS(&r, 200);
    bool found = false;
    size_t i;
    json_t *o;
    json_array_foreach (json_object_get(r.json, "items"), i, o) {
        if (strcmp(jstr(o, "id"), "fundacion-e2e-quito") == 0) {
            found = true;
            assert_string_equal(jstr(o, "org_Name"), "Fundación E2E Quito (sede norte)");
        }
    }
    assert_true(found);
    resp_free(&r);

    SEND(&r, "PUT", "/api/v1/organisations/fundacion-e2e-quito",
         "{\"id\": \"another\", \"org_Name\": \"X\"}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "id", "mismatch");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/organisations/no-name", "{\"org_Phone\": \"12\"}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "org_Name", "required");
    expect_field_error(&r, "org_Phone", "phone");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/organisations/bad%20id", "{\"org_Name\": \"X\"}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "id", "identifier");
    resp_free(&r);
    SEND(&r, "PUT", "/api/v1/organisations/x", "{\"org_Name\": \"X\"}", "Content-Type: text/plain");
    expect_error(&r, 415, "unsupported_media_type");
    resp_free(&r);

    /* cases refer to existing organisations only */
    char id[64];
    create_case("{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
                " \"amp_OwnerOrganisation\": \"fundacion-e2e-quito\"}",
                id, NULL);
    GET(&r, pf("/api/v1/cases/%s", id));
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "amp_OwnerOrganisation"), "fundacion-e2e-quito");
    resp_free(&r);
    assert_int_equal(list_total("owner=fundacion-e2e-quito"), 1);
    assert_int_equal(list_total("owner=nobody-here"), 0);

    json_int_t before = healthz_cases();
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
         " \"amp_OwnerOrganisation\": \"no-such-organisation\"}",
         NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "amp_OwnerOrganisation", "lookup");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/cases",
         "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
         " \"cas_ReferringOrganisation\": \"no-such-organisation\"}",
         NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "cas_ReferringOrganisation", "lookup");
    resp_free(&r);
    /* nor can a patch point a case at an unknown organisation */
    SEND(&r, "PATCH", pf("/api/v1/cases/%s", id),
         "{\"amp_OwnerOrganisation\": \"no-such-organisation\"}", "If-Match: \"1\"");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "amp_OwnerOrganisation", "lookup");
    resp_free(&r);
    assert_int_equal(healthz_cases(), before);
}

/* ==== concurrency ======================================================================== */

#define NTHREADS 16
#define PER_THREAD 25

typedef struct {
    pthread_barrier_t *barrier;
    int index;
    long status[PER_THREAD];
    char refs[PER_THREAD][32];
} creator;

static void *creator_main(void *arg)
{
    creator *c = arg;
    CURL *h = curl_easy_init();
    pthread_barrier_wait(c->barrier);
    for (int i = 0; i < PER_THREAD; i++) {
        char body[256];
        resp r;
        snprintf(body, sizeof body,
                 "{\"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
                 " \"prs_FirstName\": \"T%d-%d\"}",
                 c->index, i);
        if (!h) {
            c->status[i] = -1;
            continue;
        }
        http_do(h, &r, "POST", "/api/v1/cases", body, strlen(body), NULL);
        c->status[i] = r.status;
        const char *ref = jstr(r.json, "reference");
        snprintf(c->refs[i], sizeof c->refs[i], "%s", ref ? ref : "");
        resp_free(&r);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static int cmp_str32(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_concurrent_creates(void **state)
{
    (void)state;
    json_int_t before = healthz_cases();
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, NTHREADS);
    creator *cs = calloc(NTHREADS, sizeof *cs);
    pthread_t th[NTHREADS];
    assert_non_null(cs);
    for (int t = 0; t < NTHREADS; t++) {
        cs[t].barrier = &barrier;
        cs[t].index = t;
        assert_int_equal(pthread_create(&th[t], NULL, creator_main, &cs[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&barrier);

    char(*refs)[32] = calloc(NTHREADS * PER_THREAD, 32);
    assert_non_null(refs);
    size_t n = 0, bad = 0;
    for (int t = 0; t < NTHREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            if (cs[t].status[i] != 201) {
                if (!bad)
                    fprintf(stderr, "thread %d request %d: HTTP %ld\n", t, i, cs[t].status[i]);
                bad++;
            } else {
                memcpy(refs[n++], cs[t].refs[i], 32);
            }
        }
    }
    free(cs);
    if (bad) {
        free(refs);
        fail_msg("%zu of %d concurrent creates were not 201", bad, NTHREADS * PER_THREAD);
    }
    qsort(refs, n, 32, cmp_str32);
    size_t dups = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_reference(refs[i], "EC-2026-") || (i > 0 && strcmp(refs[i - 1], refs[i]) == 0))
            dups++;
    }
    free(refs);
    assert_int_equal(n, NTHREADS * PER_THREAD);
    assert_int_equal(dups, 0);
    assert_int_equal(healthz_cases(), before + NTHREADS * PER_THREAD);
}

typedef struct {
    pthread_barrier_t *barrier;
    const char *path;
    char body[128], if_match[32];
    long status;
} patcher;

static void *patcher_main(void *arg)
{
    patcher *p = arg;
    CURL *h = curl_easy_init();
    resp r;
    pthread_barrier_wait(p->barrier);
    if (!h) {
        p->status = -1;
        return NULL;
    }
    http_do(h, &r, "PATCH", p->path, p->body, strlen(p->body), p->if_match);
    p->status = r.status;
    resp_free(&r);
    curl_easy_cleanup(h);
    return NULL;
}

static void test_concurrent_patch_race(void **state)
{
    (void)state;
    char id[64], path[128];
    create_case(MINIMAL_CASE, id, NULL);
    snprintf(path, sizeof path, "/api/v1/cases/%s", id);
    for (int round = 1; round <= 5; round++) {
        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, 2);
        patcher ps[2];
        pthread_t th[2];
        for (int k = 0; k < 2; k++) {
            memset(&ps[k], 0, sizeof ps[k]);
            ps[k].barrier = &barrier;
            ps[k].path = path;
            snprintf(ps[k].body, sizeof ps[k].body, "{\"prs_FirstName\": \"%c%d\"}", 'A' + k,
                     round);
            snprintf(ps[k].if_match, sizeof ps[k].if_match, "If-Match: \"%d\"", round);
            assert_int_equal(pthread_create(&th[k], NULL, patcher_main, &ps[k]), 0);
        }
        for (int k = 0; k < 2; k++)
            pthread_join(th[k], NULL);
        pthread_barrier_destroy(&barrier);
        long a = ps[0].status, b = ps[1].status;
        if (!((a == 200 && b == 412) || (a == 412 && b == 200)))
            fail_msg("round %d: expected one 200 and one 412, got %ld and %ld", round, a, b);
        resp r;
        GET(&r, path);
        EXPECT_STATUS(&r, 200);
        assert_int_equal(jint(r.json, "version"), round + 1);
        char want[24];
        snprintf(want, sizeof want, "%c%d", a == 200 ? 'A' : 'B', round);
        assert_string_equal(jstr(r.json, "prs_FirstName"), want);
        resp_free(&r);
    }
}

/* ==== robustness ==================================================================== */

static uint32_t rng_state = 0x2545F491u;

static uint32_t rnd(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/** Sends raw bytes on a new TCP connection; returns the status of the answer, 0 if
 *  the server closed the connection or did not answer within timeout_ms. */
static int raw_exchange(const char *req, size_t len, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    (void)!send(fd, req, len, MSG_NOSIGNAL);
    char buf[256];
    size_t got = 0;
    while (got < sizeof buf - 1) {
        ssize_t k = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (k <= 0)
            break;
        got += (size_t)k;
        if (memchr(buf, '\n', got))
            break;
    }
    close(fd);
    buf[got] = '\0';
    int status = 0;
    if (got > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
        status = atoi(buf + 9);
    return status;
}

static void test_garbage_never_5xx(void **state)
{
    (void)state;
    char id[64];
    create_case(MINIMAL_CASE, id, NULL);
    const char *methods[] = {"GET",     "POST", "PUT",   "PATCH",   "DELETE",
                             "OPTIONS", "HEAD", "TRACE", "PROPFIND"};
    char paths[8][160];
    snprintf(paths[0], sizeof paths[0], "/api/v1/cases");
    snprintf(paths[1], sizeof paths[1], "/api/v1/cases/%s", id);
    snprintf(paths[2], sizeof paths[2], "/api/v1/cases/%s/events", id);
    snprintf(paths[3], sizeof paths[3], "/api/v1/cases/%s/support-plans/%s", id, id);
    snprintf(paths[4], sizeof paths[4], "/api/v1/organisations/rnd");
    snprintf(paths[5], sizeof paths[5], "/api/v1/cases/%%ff%%00%%2e%%2e/..//events");
    snprintf(paths[6], sizeof paths[6], "/healthz?x=%%00&&&=&%%");
    snprintf(paths[7], sizeof paths[7], "/api/v1/cases?status=%%C3%%28&limit=-0&offset=1e9");
    const char *ctypes[] = {"application/json",
                            "application/merge-patch+json",
                            "text/plain",
                            "application/json; charset=latin1",
                            "",
                            "*/*"};
    const char *extra[] = {"If-Match: \"1\"",        "If-Match: *",
                           "If-Match: W/\"x\"",      "If-Match: \"99999999999999999999999\"",
                           "Accept-Language: ,,,;;", "Accept-Language: ukfr, es-ES",
                           "If-Match: \"1",          ""};
    for (int k = 0; k < 80; k++) {
        size_t len = rnd() % 3000;
        char *body = xmalloc(len + 1);
        for (size_t i = 0; i < len; i++)
            body[i] = (char)(rnd() & 0xff);
        if (len && k % 4 == 0)
            body[0] = '{';
        body[len] = '\0';
        const char *m = methods[rnd() % (sizeof methods / sizeof *methods)];
        const char *path = paths[rnd() % 8];
        char hdrs[256];
        snprintf(hdrs, sizeof hdrs, "Content-Type: %s\n%s",
                 ctypes[rnd() % (sizeof ctypes / sizeof *ctypes)], extra[k % 8]);
        resp r;
        bool send_body = strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
        http_do(NULL, &r, m, path, send_body ? body : NULL, len, hdrs);
        if (r.status >= 500)
            fail_msg("garbage request %s %s gave HTTP %ld: %.300s", m, path, r.status,
                     r.body ? r.body : "");
        if (r.cc != CURLE_OK || r.status < 200)
            fail_msg("garbage request %s %s got no answer: %s", m, path, curl_easy_strerror(r.cc));
        if (r.json && r.status >= 400)
            expect_error(&r, r.status, NULL);
        resp_free(&r);
        free(body);
    }

    /* a 100 KB header: refused by the HTTP layer (431) or the connection closed */
    size_t hl = 100 * 1024;
    char *hdr = xmalloc(hl + 16);
    strcpy(hdr, "X-Huge: ");
    memset(hdr + 8, 'h', hl);
    hdr[8 + hl] = '\0';
    resp r;
    http_do(NULL, &r, "GET", "/healthz", NULL, 0, hdr);
    if (r.cc == CURLE_OK && (r.status < 400 || r.status >= 500))
        fail_msg("a 100 KB header gave HTTP %ld", r.status);
    resp_free(&r);
    free(hdr);

    /* a 10 KB URL: 414 */
    size_t ul = 10 * 1024;
    char *url = xmalloc(ul + 64);
    strcpy(url, "/api/v1/cases/");
    memset(url + 14, 'a', ul);
    url[14 + ul] = '\0';
    GET(&r, url);
    expect_error(&r, 414, "uri_too_long");
    resp_free(&r);
    /* a 10 KB query string: refused (414 as documented, see
     * test_long_query_is_414 for the status) */
    strcpy(url, "/api/v1/cases?reference=");
    memset(url + 24, 'A', ul);
    url[24 + ul] = '\0';
    GET(&r, url);
    assert_true(r.status >= 400 && r.status < 500);
    expect_error(&r, r.status, NULL);
    resp_free(&r);
    free(url);
    /* a path parameter longer than the router keeps */
    char longid[400];
    memset(longid, 'b', 300);
    longid[300] = '\0';
    GET(&r, pf("/api/v1/cases/%s/events/%s", longid, longid));
    expect_error(&r, 404, "not_found");
    resp_free(&r);
    GET(&r, pf("/api/v1/cases/%s", longid));
    expect_error(&r, 404, "not_found");
    resp_free(&r);

    /* raw TCP: bad request lines */
    static const char *const raws[] = {
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET  HTTP/1.1\r\n\r\n",
        "GET /healthz\r\n\r\n",
        "\xff\xfe\xfd / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nbadheader\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        "POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        "POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 99999999999999999999\r\n\r\n{}",
        "POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{",
        "GET /api/v1/cases/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
        "\r\n\r\n\r\n",
    };
    for (size_t k = 0; k < sizeof raws / sizeof *raws; k++) {
        int st = raw_exchange(raws[k], strlen(raws[k]), 1000);
        if (st >= 500 || st < 0)
            fail_msg("raw request %zu gave %d", k, st);
    }
    /* a NUL inside the request line */
    static const char nul_line[] = "GET /heal\0thz HTTP/1.1\r\nHost: x\r\n\r\n";
    int st = raw_exchange(nul_line, sizeof nul_line - 1, 1000);
    assert_true(st >= 0 && st < 500);

    /* still alive and well */
    assert_true(healthz_ok());
    create_case(MINIMAL_CASE, NULL, NULL);
}

/* ==== known bugs: documented behaviour, skipped while the server differs ============= */

/* Location names the new child under the case path the request used: by id when
 * created by id, by reference when created by reference (both are valid URLs). */
static void test_child_location_uses_case_id(void **state)
{
    (void)state;
    char id[64], ref[32];
    create_case(MINIMAL_CASE, id, ref);
    const char *keys[2] = {id, ref};
    for (int k = 0; k < 2; k++) {
        resp r;
        SEND(&r, "POST", pf("/api/v1/cases/%s/comments", keys[k]),
             "{\"cco_CaseComment\": \"Psychological follow-up scheduled.\"}", NULL);
        EXPECT_STATUS(&r, 201);
        char want[300];
        snprintf(want, sizeof want, "/api/v1/cases/%s/comments/%s", keys[k], jstr(r.json, "id"));
        assert_string_equal(r.location, want);
        resp g;
        GET(&g, want);
        EXPECT_STATUS(&g, 200);
        resp_free(&g);
        resp_free(&r);
    }
}

static void test_location_with_trailing_slash(void **state)
{
    (void)state;
    resp r;
    SEND(&r, "POST", "/api/v1/cases/", MINIMAL_CASE, NULL);
    EXPECT_STATUS(&r, 201);
    char want[128];
    snprintf(want, sizeof want, "/api/v1/cases/%s", jstr(r.json, "id"));
    assert_string_equal(r.location, want);
    resp_free(&r);
}

static void test_long_query_is_414(void **state)
{
    (void)state;
    json_int_t before = healthz_cases();
    char *url = xmalloc(12000);
    strcpy(url, "/api/v1/cases?reference=");
    long got[3];
    resp r;
    memset(url + 24, 'A', 5000); /* 5 KB query */
    url[5024] = '\0';
    GET(&r, url);
    got[0] = r.status;
    resp_free(&r);
    memset(url + 24, 'A', 10240); /* 10 KB query */
    url[10264] = '\0';
    GET(&r, url);
    got[1] = r.status;
    resp_free(&r);
    SEND(&r, "POST", url, MINIMAL_CASE, NULL);
    got[2] = r.status;
    resp_free(&r);
    if (got[0] != 414 || got[1] != 414 || got[2] != 414) {
        json_int_t after = healthz_cases();
        fprintf(stderr,
                "long queries: 5 KB GET %ld, 10 KB GET %ld, 10 KB POST %ld (%lld case"
                "(s) created)\n",
                got[0], got[1], got[2], (long long)(after - before));
        free(url);
        fail_msg("a query string over 4 KiB must be answered 414 on every route");
    }
    GET(&r, url);
    expect_error(&r, 414, "uri_too_long");
    resp_free(&r);
    free(url);
}

static void test_empty_filter_value_is_400(void **state)
{
    (void)state;
    resp r;
    GET(&r, "/api/v1/cases?" B "&exploitation=");
    expect_error(&r, 400, "bad_request");
    expect_field_error(&r, "exploitation", "required");
    resp_free(&r);
}

/* ==== durability ===================================================================== */

#define DUR_THREADS 4
#define DUR_MAX_PER_THREAD 100
#define DUR_WANT 50

static struct {
    pthread_mutex_t mu;
    atomic_bool stop;
    size_t acked;
    char ids[DUR_THREADS * DUR_MAX_PER_THREAD][40];
    char refs[DUR_THREADS * DUR_MAX_PER_THREAD][32];
    size_t unexpected;
} dur = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void *durable_writer(void *arg)
{
    CURL *h = curl_easy_init();
    int index = (int)(intptr_t)arg;
    for (int i = 0; h && i < DUR_MAX_PER_THREAD && !atomic_load(&dur.stop); i++) {
        char body[200];
        resp r;
        snprintf(body, sizeof body,
                 "{\"vic_TraffickingStatus\": \"ActualVictimOfTrafficking\","
                 " \"prs_FirstName\": \"D%d-%d\"}",
                 index, i);
        http_do(h, &r, "POST", "/api/v1/cases", body, strlen(body), NULL);
        const char *id = jstr(r.json, "id"), *ref = jstr(r.json, "reference");
        pthread_mutex_lock(&dur.mu);
        if (r.status == 201 && id && ref) {
            snprintf(dur.ids[dur.acked], sizeof dur.ids[0], "%s", id);
            snprintf(dur.refs[dur.acked], sizeof dur.refs[0], "%s", ref);
            dur.acked++;
        } else if (r.status != 0) {
            dur.unexpected++;
        }
        pthread_mutex_unlock(&dur.mu);
        bool dead = r.status == 0;
        resp_free(&r);
        if (dead)
            break; /* the server was killed */
    }
    curl_easy_cleanup(h);
    return NULL;
}

static void test_durability_after_kill9(void **state)
{
    (void)state;
    pthread_t th[DUR_THREADS];
    atomic_store(&dur.stop, false);
    for (int t = 0; t < DUR_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, durable_writer, (void *)(intptr_t)t), 0);
    /* kill -9 as soon as 50 creates are acknowledged, with more in flight */
    int64_t deadline = now_ms() + 30000;
    size_t acked = 0;
    while (now_ms() < deadline) {
        pthread_mutex_lock(&dur.mu);
        acked = dur.acked;
        pthread_mutex_unlock(&dur.mu);
        if (acked >= DUR_WANT)
            break;
        usleep(200);
    }
    kill(srv.pid, SIGKILL);
    atomic_store(&dur.stop, true);
    for (int t = 0; t < DUR_THREADS; t++)
        pthread_join(th[t], NULL);
    int status;
    assert_int_equal(wait_exit(STOP_TIMEOUT_MS, &status), 1);
    srv.pid = 0;
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(dur.unexpected, 0);
    if (dur.acked < DUR_WANT)
        fail_msg("only %zu creates were acknowledged before the deadline", dur.acked);

    /* restart on the same data: every acknowledged case is there */
    if (server_launch() != 0)
        fail_msg("the server did not restart after kill -9");
    size_t missing = 0;
    for (size_t i = 0; i < dur.acked; i++) {
        resp r;
        GET(&r, pf("/api/v1/cases/%s", dur.ids[i]));
        if (r.status != 200 || !jstr(r.json, "reference") ||
            strcmp(jstr(r.json, "reference"), dur.refs[i]) != 0) {
            if (!missing)
                fprintf(stderr, "acknowledged case %s (%s): HTTP %ld\n", dur.ids[i], dur.refs[i],
                        r.status);
            missing++;
        }
        resp_free(&r);
    }
    if (missing)
        fail_msg("%zu of %zu acknowledged cases were lost by kill -9", missing, dur.acked);
    /* and the server keeps working: new references continue after the old ones */
    char ref[32];
    create_case(MINIMAL_CASE, NULL, ref);
    for (size_t i = 0; i < dur.acked; i++)
        assert_true(strcmp(ref, dur.refs[i]) != 0);
}

/* ==== shutting down ==================================================================== */

static void test_sigterm_exits_cleanly(void **state)
{
    (void)state;
    assert_true(srv.pid > 0);
    assert_true(healthz_ok());
    int st = server_terminate();
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        dump_log("SIGTERM");
        if (st >= 0 && WIFSIGNALED(st))
            fail_msg("amparo serve died of signal %d on SIGTERM", WTERMSIG(st));
        fail_msg("amparo serve exited with status %d on SIGTERM",
                 st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    if (log_has_sanitizer_report()) {
        dump_log("sanitizer report");
        fail_msg("the server's log holds a sanitizer report");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_schema_and_openapi),
        cmocka_unit_test(test_unknown_route_and_method),
        cmocka_unit_test(test_create_case_and_read_back),
        cmocka_unit_test(test_create_refuses_server_keys),
        cmocka_unit_test(test_validation_lists_every_field),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_patch_versions_and_history),
        cmocka_unit_test(test_children),
        cmocka_unit_test(test_list_filters_sort_paging),
        cmocka_unit_test(test_organisations),
        cmocka_unit_test(test_concurrent_creates),
        cmocka_unit_test(test_concurrent_patch_race),
        cmocka_unit_test(test_garbage_never_5xx),
        cmocka_unit_test(test_child_location_uses_case_id),
        cmocka_unit_test(test_location_with_trailing_slash),
        cmocka_unit_test(test_long_query_is_414),
        cmocka_unit_test(test_empty_filter_value_is_400),
        cmocka_unit_test(test_durability_after_kill9),
        cmocka_unit_test(test_sigterm_exits_cleanly),
    };
    return cmocka_run_group_tests_name("e2e_api", tests, group_setup, group_teardown);
}

/* e2e_util.h — what every end-to-end test binary shares: a real `amparo serve`
 * in a temporary data directory, a libcurl client, and assertions on answers.
 *
 * Each tests/e2e/e2e_<module>.c includes this header once and runs its tests
 * with cmocka_run_group_tests_name(…, group_setup, group_teardown).  The group
 * setup creates a temporary data directory, runs `$AMPARO_BIN init` and starts
 * `$AMPARO_BIN serve --listen 127.0.0.1:0 --port-file …` with AMPARO_TODAY
 * fixed; the server's output goes to a log printed whenever it misbehaves, and
 * a sanitizer report in it fails the group. */
#ifndef AMPARO_E2E_UTIL_H
#define AMPARO_E2E_UTIL_H

#pragma GCC diagnostic ignored "-Wunused-function"

/* Accounts exist: tests sign in (e2e_as) and may check refusals by role. */
#define E2E_HAVE_AUTH 1
#define E2E_PASSWORD "correct horse battery staple"

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

/* "Authorization: Bearer <token>" sent with every request that names none, or "". */
static char e2e_auth[256];

/* Lines a test binary adds to amparo.conf before the server starts. */
static const char *e2e_extra_conf = "";

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

/** True when a line of the server's log contains text. */
static bool log_has(const char *text)
{
    FILE *f = fopen(srv.logfile, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
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
        setenv("AMPARO_ADMIN_PASSWORD", E2E_PASSWORD, 1);
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
    /* the test users' passwords are hashed with libsodium's minimum cost, so that
     * sign-ins under the sanitizers stay quick (docs/SECURITY.md: never in use) */
    char conf[400];
    snprintf(conf, sizeof conf, "%s/amparo.conf", srv.data);
    FILE *cf = fopen(conf, "a");
    if (!cf || fprintf(cf, "pwhash=min\n%s", e2e_extra_conf) < 0 || fclose(cf) != 0)
        return -1;
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
    char retry_after[16], set_cookie[256], csp[256];
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
    } else if (nl == 11 && strncasecmp(p, "Retry-After", 11) == 0) {
        dst = r->retry_after;
        cap = sizeof r->retry_after;
    } else if (nl == 10 && strncasecmp(p, "Set-Cookie", 10) == 0) {
        dst = r->set_cookie;
        cap = sizeof r->set_cookie;
    } else if (nl == 23 && strncasecmp(p, "Content-Security-Policy", 23) == 0) {
        dst = r->csp;
        cap = sizeof r->csp;
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
    if (e2e_auth[0] && !(hdrs && strcasestr(hdrs, "Authorization:")))
        hl = curl_slist_append(hl, e2e_auth);
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

static void e2e_as(const char *user);
static char e2e_user[64];

/** The number of stored cases, from GET /api/v1/status as the system admin
 *  (then acting again as whoever the test was acting as). */
static json_int_t healthz_cases(void)
{
    char was[64];
    snprintf(was, sizeof was, "%s", e2e_user);
    e2e_as("admin");
    resp r;
    GET(&r, "/api/v1/status");
    EXPECT_STATUS(&r, 200);
    json_int_t n = jint(r.json, "cases");
    resp_free(&r);
    e2e_as(was);
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

/* ==== the test world ================================================================ */

/* Organisations: "org-a" (NGO, EC), "org-b" (shelter, EC), "org-c" (NGO, PE).
 * Users, each with password E2E_PASSWORD: "admin" (sysadmin, made by init),
 * "orgadmin-a", "coord-a", "cw-a", "cw-b", "cw-c" (caseworkers of org-a, org-b,
 * org-c), "hotline-a", "shelter-b", "analyst", "auditor".  e2e_as(user) makes
 * every later request (without its own Authorization header) act as that user. */

static const struct {
    const char *id, *type, *country, *category;
} e2e_orgs[] = {
    {"org-a", "NGO", "EC", "NGO"},
    {"org-b", "NGO", "EC", "Shelter"},
    {"org-c", "NGO", "PE", "NGO"},
};

static const struct {
    const char *name, *org, *role;
} e2e_users[] = {
    {"orgadmin-a", "org-a", "orgadmin"}, {"coord-a", "org-a", "coordinator"},
    {"cw-a", "org-a", "caseworker"},     {"cw-b", "org-b", "caseworker"},
    {"cw-c", "org-c", "caseworker"},     {"hotline-a", "org-a", "hotline"},
    {"shelter-b", "org-b", "shelter"},   {"analyst", "org-a", "analyst"},
    {"auditor", "org-a", "auditor"},
};

static struct {
    char user[64];
    char token[128];
    char csrf[128];
} e2e_tokens[24];

/** Signs in (user, password) and returns the answer; the caller frees it. */
static void e2e_login(resp *r, const char *user, const char *password)
{
    SEND(r, "POST", "/api/v1/login",
         pf("{\"username\": \"%s\", \"password\": \"%s\"}", user, password), "Authorization: none");
}

/** Acts as user from now on (signing in on first use); NULL or "" signs out of
 *  the test client (requests then carry no credentials). */
static void e2e_as(const char *user)
{
    snprintf(e2e_user, sizeof e2e_user, "%s", user ? user : "");
    if (!user || !*user) {
        e2e_auth[0] = '\0';
        return;
    }
    size_t n = sizeof e2e_tokens / sizeof *e2e_tokens, free_slot = n;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(e2e_tokens[i].user, user) == 0) {
            snprintf(e2e_auth, sizeof e2e_auth, "Authorization: Bearer %s", e2e_tokens[i].token);
            return;
        }
        if (!e2e_tokens[i].user[0] && free_slot == n)
            free_slot = i;
    }
    if (free_slot == n)
        fail_msg("too many test users");
    resp r;
    e2e_login(&r, user, E2E_PASSWORD);
    if (r.status != 200 || !json_string_value(json_object_get(r.json, "token")))
        fail_msg("cannot sign in as %s: %ld %.300s", user, r.status, r.body ? r.body : "");
    snprintf(e2e_tokens[free_slot].user, sizeof e2e_tokens[free_slot].user, "%s", user);
    snprintf(e2e_tokens[free_slot].token, sizeof e2e_tokens[free_slot].token, "%s",
             json_string_value(json_object_get(r.json, "token")));
    snprintf(e2e_tokens[free_slot].csrf, sizeof e2e_tokens[free_slot].csrf, "%s",
             json_string_value(json_object_get(r.json, "csrf_token")));
    resp_free(&r);
    snprintf(e2e_auth, sizeof e2e_auth, "Authorization: Bearer %s", e2e_tokens[free_slot].token);
}

/** Forgets the cached sign-ins (after a restart the sessions persist, so this
 *  is only for tests that revoke them). */
static void e2e_forget_tokens(void)
{
    memset(e2e_tokens, 0, sizeof e2e_tokens);
    e2e_auth[0] = '\0';
}

/** Creates the world's organisations and users (as admin), then acts as cw-a. */
static void e2e_world_setup(void)
{
    e2e_as("admin");
    for (size_t i = 0; i < sizeof e2e_orgs / sizeof *e2e_orgs; i++) {
        resp r;
        SEND(&r, "PUT", pf("/api/v1/organisations/%s", e2e_orgs[i].id),
             pf("{\"org_Name\": \"Organisation %s\", \"org_Type\": \"%s\", "
                "\"amp_OrgCountry\": \"%s\", \"amp_OrgCategory\": [\"%s\"]}",
                e2e_orgs[i].id, e2e_orgs[i].type, e2e_orgs[i].country, e2e_orgs[i].category),
             NULL);
        if (r.status != 200 && r.status != 201)
            fail_msg("cannot create organisation %s: %ld %.300s", e2e_orgs[i].id, r.status,
                     r.body ? r.body : "");
        resp_free(&r);
    }
    for (size_t i = 0; i < sizeof e2e_users / sizeof *e2e_users; i++) {
        resp r;
        SEND(&r, "POST", "/api/v1/users",
             pf("{\"username\": \"%s\", \"org\": \"%s\", \"roles\": [\"%s\"], "
                "\"password\": \"%s\"}",
                e2e_users[i].name, e2e_users[i].org, e2e_users[i].role, E2E_PASSWORD),
             NULL);
        if (r.status != 201 && r.status != 409)
            fail_msg("cannot create user %s: %ld %.300s", e2e_users[i].name, r.status,
                     r.body ? r.body : "");
        resp_free(&r);
    }
    e2e_as("cw-a");
}

/** The last test of a group: SIGTERM stops the server cleanly (exit 0, no
 *  sanitizer report). */
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

/** A group setup: the server, then its organisations and users (acting as cw-a). */
static int world_setup(void **state)
{
    if (group_setup(state) != 0)
        return -1;
    e2e_world_setup();
    return 0;
}

#endif

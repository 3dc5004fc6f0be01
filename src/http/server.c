/* server.c — libmicrohttpd plumbing: the server threads and their rounds,
 * request lifecycle, body limits, the authentication step, asynchronous writes
 * (suspend/resume) and responses.
 *
 * Threads.  The server runs one libmicrohttpd daemon per thread (external
 * polling, epoll), all accepting on one listening socket.  Each thread loops:
 * wait for activity, then one round, in which MHD_run processes every ready
 * connection, inside an audit round (audit_round_begin/end): the read audit
 * entries of the round go to the store's writer as one job when it ends, and
 * the thread goes on with its next round meanwhile.  Once that commit is
 * durable, the store's completion thread answers those reads, as it answers
 * writes: it resumes each connection and wakes the connection's thread through
 * that thread's eventfd.  Slow routes (password hashing; long exports and
 * checks) run on threads of their own in the same way ("slow routes" below). */
#include "http/server.h"
#include "core/accounts.h"
#include "http/request.h"
#include "util/clock.h"
#include "util/log.h"

#include "core/audit.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY (1024 * 1024)
#define MAX_URI 8192

#define SESSION_COOKIE "amparo_session"

#define MAX_LOOPS 256
#define LOOP_WAIT_MS 500 /* longest wait for activity, so that a stop is seen */

/* One server thread and its daemon. */
typedef struct loop {
    struct server *srv;
    struct MHD_Daemon *daemon;
    int wake_fd;           /* eventfd: a connection of this thread was resumed elsewhere */
    atomic_bool wake_sent; /* written since the thread last looked: no need again */
    pthread_t thread;
    bool running;
    atomic_bool quiesced; /* this daemon no longer accepts */
} loop;

/* A request for a slow route, waiting for a slow thread. */
typedef struct slow_job {
    request *r;
    handler_fn fn;
    struct slow_job *next;
} slow_job;

#define MAX_SLOW_THREADS 32
#define SLOW_QUEUE_PER_THREAD 8 /* beyond that, 429: the work cannot pile up */

/* The threads of one kind of slow route (route.slow): password hashing, or long
 * exports and checks.  Two pools, so that an export never delays a sign-in. */
typedef struct slow_pool {
    struct server *srv;
    const char *thread_name;
    const char *busy; /* the 429 message */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slow_job *head, *tail;
    unsigned queued, nthreads;
    bool stop;
    pthread_t threads[MAX_SLOW_THREADS];
} slow_pool;

struct server {
    core *core;
    accounts *acc;
    bool tls;
    /* slow routes run on threads of their own, so that an HTTP thread never
     * stops serving its other connections for them; indexed by route.slow */
    slow_pool pools[ROUTE_SLOW_KINDS];
    int listen_fd;
    unsigned nloops;
    loop loops[MAX_LOOPS];
    size_t max_body;
    unsigned port;
    atomic_int inflight;  /* asynchronous writes not yet answered */
    atomic_bool closing;  /* stop accepting */
    atomic_bool stopping; /* leave the loops */
};

/* The loop of the calling thread (NULL off the server's threads). */
static _Thread_local loop *this_loop;
/* A connection of this thread's loop was resumed on this thread: run the
 * daemon again before waiting for activity. */
static _Thread_local bool run_again;

/* Wakes l's thread, once for any number of resumes until it looks: the thread
 * clears wake_sent before each run of its daemon, so a resume made before the
 * clearing is seen by that run, and one made after it writes again. */
static void loop_wake(loop *l)
{
    if (atomic_exchange(&l->wake_sent, true))
        return;
    uint64_t one = 1;
    ssize_t n = write(l->wake_fd, &one, sizeof one); /* EAGAIN: already awake */
    (void)n;
}

/* ==== responses ============================================================ */

/* Drops any answer set so far and marks the request answered with `status`. */
static void set_answer(request *r, unsigned status, json_t *body, char *text, size_t len)
{
    json_decref(r->reply);
    free(r->raw_owned);
    r->reply = body;
    r->raw_owned = text;
    r->raw_reply = text;
    r->raw_len = len;
    r->status = status;
    r->answered = true;
}

void req_reply(request *r, unsigned status, json_t *body)
{
    set_answer(r, status, body, NULL, 0);
}

void req_reply_text(request *r, unsigned status, char *text, size_t len)
{
    set_answer(r, status, NULL, text, len);
}

void req_error(request *r, unsigned status, const char *code, const char *message, json_t *fields)
{
    json_t *e =
        json_pack("{s:i, s:s, s:s}", "status", (int)status, "code", code, "message", message);
    if (fields && json_array_size(fields)) /* a copy: the answer is written on another
                                            * thread than the one that frees the error */
        json_object_set_new(e, "fields", json_deep_copy(fields));
    req_reply(r, status, json_pack("{s:o}", "error", e));
}

static unsigned status_of(amp_code code)
{
    switch (code) {
    case AMP_OK: return MHD_HTTP_OK;
    case AMP_EBADREQ: return MHD_HTTP_BAD_REQUEST;
    case AMP_EINVALID: return MHD_HTTP_UNPROCESSABLE_CONTENT;
    case AMP_ENOTFOUND: return MHD_HTTP_NOT_FOUND;
    case AMP_ECONFLICT: return MHD_HTTP_CONFLICT;
    case AMP_EPRECOND: return MHD_HTTP_PRECONDITION_FAILED;
    case AMP_ENEEDVER: return MHD_HTTP_PRECONDITION_REQUIRED;
    case AMP_ETOOBIG: return MHD_HTTP_CONTENT_TOO_LARGE;
    case AMP_EUNAUTH: return MHD_HTTP_UNAUTHORIZED;
    case AMP_EFORBIDDEN: return MHD_HTTP_FORBIDDEN;
    case AMP_ETHROTTLED: return MHD_HTTP_TOO_MANY_REQUESTS;
    case AMP_ESTATE: return MHD_HTTP_CONFLICT;
    case AMP_EINTERNAL: break;
    }
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

void req_fail(request *r, const amp_err *err)
{
    unsigned status = status_of(err->code);
    if (status >= 500)
        log_error("http: %s %s failed: %s", r->method, r->path, err->message);
    req_error(r, status, err->name[0] ? err->name : amp_code_name(err->code),
              err->message[0] ? err->message : "error", err->fields);
    if (err->retry_after > 0)
        r->retry_after = err->retry_after;
}

const char *req_header(request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; ");
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (n == 28 && strncasecmp(ct, "application/merge-patch+json", 28) == 0);
}

json_t *req_json_body(request *r)
{
    if (!is_json_type(req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        req_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                  "send the body as application/json", NULL);
        return NULL;
    }
    amp_err err = {0};
    json_t *doc = parse_json_body(r->body, r->body_len, PARSE_MAX_DEPTH, &err);
    if (!doc)
        req_fail(r, &err);
    amp_err_clear(&err);
    return doc;
}

int64_t req_if_match(request *r)
{
    const char *h = req_header(r, MHD_HTTP_HEADER_IF_MATCH);
    if (!h)
        return 0;
    const char *p = h;
    while (*p == ' ')
        p++;
    if (p[0] == 'W' && p[1] == '/')
        p += 2;
    bool quoted = *p == '"';
    if (quoted)
        p++;
    char *end;
    long long v = isdigit((unsigned char)*p) ? strtoll(p, &end, 10) : 0;
    if (v <= 0 || (quoted && *end++ != '"') || (*end && *end != ' ')) {
        req_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
                  "If-Match must be the version of the record, e.g. \"3\"", NULL);
        return -1;
    }
    return v;
}

/* ==== asynchronous writes ================================================= */

void req_async_begin(request *r)
{
    pthread_mutex_lock(&r->mu);
    r->pending = true;
    pthread_mutex_unlock(&r->mu);
    atomic_fetch_add(&r->srv->inflight, 1);
}

void req_async_end(request *r, amp_code code, amp_err *err)
{
    if (code != AMP_OK) {
        pthread_mutex_lock(&r->mu);
        r->pending = false;
        pthread_mutex_unlock(&r->mu);
        atomic_fetch_sub(&r->srv->inflight, 1);
        req_fail(r, err);
        return;
    }
    pthread_mutex_lock(&r->mu);
    if (!r->answered) {
        MHD_suspend_connection(r->conn);
        r->suspended = true;
    }
    pthread_mutex_unlock(&r->mu);
}

/* The end of every asynchronous answer, called with r->mu held (and lets go of
 * it): the request is no longer pending, its connection is resumed if it was
 * suspended, and its thread is woken (or, on that thread, runs it again before
 * waiting).  r is not touched once the lock is released: it may be gone. */
static void release_answered(request *r)
{
    r->pending = false;
    struct server *srv = r->srv;
    loop *owner = r->loop;
    bool wake = false;
    if (r->suspended) {
        r->suspended = false;
        MHD_resume_connection(r->conn);
        if (owner && owner == this_loop)
            run_again = true;
        else
            wake = owner != NULL;
    }
    pthread_mutex_unlock(&r->mu);
    if (wake)
        loop_wake(owner);
    atomic_fetch_sub(&srv->inflight, 1);
}

static void finish_write(request *r, amp_code code, json_t *result, char *text, amp_err *err,
                         bool created)
{
    pthread_mutex_lock(&r->mu);
    if (code == AMP_OK) {
        json_t *v = json_object_get(result, "version");
        if (json_is_integer(v))
            snprintf(r->etag, sizeof r->etag, "\"%lld\"", (long long)json_integer_value(v));
        if (created) {
            const char *id = json_string_value(json_object_get(result, "id"));
            size_t n = strlen(r->path);
            while (n > 1 && r->path[n - 1] == '/')
                n--;
            if (id)
                snprintf(r->location, sizeof r->location, "%.*s/%s", (int)n, r->path, id);
        }
        unsigned status = created ? MHD_HTTP_CREATED : MHD_HTTP_OK;
        if (text) {
            req_reply_text(r, status, text, strlen(text));
            json_decref(result);
        } else {
            req_reply(r, status, result);
        }
    } else {
        req_fail(r, err);
    }
    release_answered(r);
}

void req_write_done(void *arg, amp_code code, json_t *result, char *text, amp_err *err)
{
    finish_write(arg, code, result, text, err, false);
}

void req_create_done(void *arg, amp_code code, json_t *result, char *text, amp_err *err)
{
    finish_write(arg, code, result, text, err, true);
}

/* ==== the pipeline ========================================================= */

/* The one authentication step in front of every handler.  Until accounts and
 * roles exist, every request acts as "local" (the server listens on loopback by
 * default); the language of messages follows Accept-Language. */
/* The language named first in Accept-Language among those Amparo speaks, or NULL. */
static const char *accept_language(request *r)
{
    const char *al = req_header(r, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
    static const char *const langs[] = {"en", "es", "fr", "uk"};
    const char *first = NULL, *lang = NULL;
    for (size_t i = 0; al && i < sizeof langs / sizeof *langs; i++) {
        for (const char *hit = strstr(al, langs[i]); hit; hit = strstr(hit + 1, langs[i])) {
            bool starts = hit == al || hit[-1] == ',' || hit[-1] == ' ';
            bool ends = !isalpha((unsigned char)hit[2]);
            if (starts && ends) {
                if (!first || hit < first) {
                    first = hit;
                    lang = langs[i];
                }
                break;
            }
        }
    }
    return lang;
}

static void client_address(request *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    r->client_addr[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->client_addr,
                  sizeof r->client_addr);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->client_addr,
                  sizeof r->client_addr);
}

/* The session token: "Authorization: Bearer T", else the amparo_session cookie
 * (then *via_cookie).  Copies it into out[n]; false when there is none. */
static bool find_token(request *r, char *out, size_t n, bool *via_cookie)
{
    *via_cookie = false;
    const char *h = req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h) {
        if (strncasecmp(h, "Bearer ", 7) != 0)
            return false;
        h += 7;
        while (*h == ' ')
            h++;
        size_t len = strcspn(h, " \t");
        if (len == 0 || len >= n)
            return false;
        memcpy(out, h, len);
        out[len] = '\0';
        return true;
    }
    const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
    if (!c || !*c || strlen(c) >= n)
        return false;
    snprintf(out, n, "%s", c);
    *via_cookie = true;
    return true;
}

static bool unsafe_method(const char *m)
{
    return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

/* The authentication step: who is asking, in which language, and whether the
 * route lets them in.  Answers the request itself (401/403) when it does not. */
static bool authenticate(request *r, const route *rt)
{
    struct server *srv = r->srv;
#ifdef AMPARO_BENCH_UNPROTECTED
    /* bench/ only (make EXTRA_CFLAGS=-DAMPARO_BENCH_UNPROTECTED): the same server
     * with authentication, authorisation and read auditing off, to measure what
     * they cost.  Never built by `make`, `make run` or `make test`. */
    memset(&r->who, 0, sizeof r->who);
    snprintf(r->who.actor, sizeof r->who.actor, "bench");
    snprintf(r->who.lang, sizeof r->who.lang, "en");
    r->who.internal = true;
    (void)rt;
    return true;
#endif
    memset(&r->who, 0, sizeof r->who);
    snprintf(r->who.lang, sizeof r->who.lang, "en");
    client_address(r);
    snprintf(r->who.addr, sizeof r->who.addr, "%s", r->client_addr);
    r->srv_tls = srv->tls;
    const char *al = accept_language(r);
    char token[128];
    bool via_cookie = false;
    bool have = find_token(r, token, sizeof token, &via_cookie);
    /* public routes (sign-in, health, documentation, the UI's files) act for no
     * one, so a session cookie sent along is neither needed nor checked */
    if (rt->access == ROUTE_PUBLIC) {
        sodium_memzero(token, sizeof token);
        have = false;
    }
    if (rt->access == ROUTE_PUBLIC && !have) {
        if (al)
            snprintf(r->who.lang, sizeof r->who.lang, "%s", al);
        return true;
    }
    if (!have) {
        req_error(r, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
                  "sign in first (POST /api/v1/login) and send the token as "
                  "'Authorization: Bearer <token>'",
                  NULL);
        return false;
    }
    amp_err err = {0};
    auth_info info;
    amp_code code = accounts_authenticate(srv->acc, token, &r->who, &info, r->token_hash, &err);
    sodium_memzero(token, sizeof token);
    snprintf(r->who.addr, sizeof r->who.addr, "%s", r->client_addr);
    if (al)
        snprintf(r->who.lang, sizeof r->who.lang, "%s", al);
    if (code != AMP_OK) {
        if (rt->access == ROUTE_PUBLIC) { /* a stale cookie does not block public pages */
            memset(&r->who, 0, sizeof r->who);
            snprintf(r->who.lang, sizeof r->who.lang, "%s", al ? al : "en");
            amp_err_clear(&err);
            return true;
        }
        req_fail(r, &err);
        amp_err_clear(&err);
        return false;
    }
    r->via_cookie = via_cookie;
    snprintf(r->csrf, sizeof r->csrf, "%s", info.csrf);
    /* Cookie sessions must prove, on every unsafe method, that the page sending
     * the request was ours: the CSRF token is not in the cookie, so another site
     * cannot send it.  Bearer tokens are never sent by browsers on their own. */
    if (via_cookie && unsafe_method(r->method)) {
        const char *sent = req_header(r, "X-CSRF-Token");
        if (!sent || strlen(sent) != strlen(info.csrf) || !info.csrf[0] ||
            sodium_memcmp(sent, info.csrf, strlen(info.csrf)) != 0) {
            req_error(r, MHD_HTTP_FORBIDDEN, "csrf_failed",
                      "missing or wrong X-CSRF-Token header (sign in again if it persists)", NULL);
            return false;
        }
    }
    if (info.mfa_pending && rt->access != ROUTE_MFA_PENDING && rt->access != ROUTE_PUBLIC) {
        req_error(r, MHD_HTTP_FORBIDDEN, "mfa_enrolment_required",
                  "your role requires a second factor: enrol one (POST /api/v1/me/totp) and "
                  "sign in again",
                  NULL);
        return false;
    }
    return true;
}

struct accounts *req_accounts(request *r)
{
    return r->srv->acc;
}

/* ==== slow routes ========================================================== *
 * The handler of a slow route runs on a slow thread while its connection is
 * suspended (nothing else touches the request meanwhile); the thread then
 * resumes the connection and wakes its HTTP thread.  At most
 * SLOW_QUEUE_PER_THREAD requests per slow thread wait; beyond that the answer
 * is 429 at once. */

static void slow_resume(request *r)
{
    pthread_mutex_lock(&r->mu);
    if (!r->answered)
        req_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error", "no answer", NULL);
    release_answered(r);
}

/* True when a slow thread has the request; false when it is answered (429). */
static bool slow_submit(slow_pool *pool, request *r, handler_fn fn)
{
    struct server *srv = r->srv;
    slow_job *j = malloc(sizeof *j);
    pthread_mutex_lock(&pool->mu);
    bool full = pool->stop || pool->queued >= pool->nthreads * SLOW_QUEUE_PER_THREAD;
    if (!j || full) {
        pthread_mutex_unlock(&pool->mu);
        free(j);
        r->retry_after = 1;
        req_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_requests", pool->busy, NULL);
        return false;
    }
    j->r = r;
    j->fn = fn;
    j->next = NULL;
    pthread_mutex_lock(&r->mu);
    r->pending = true;
    MHD_suspend_connection(r->conn);
    r->suspended = true;
    pthread_mutex_unlock(&r->mu);
    atomic_fetch_add(&srv->inflight, 1);
    if (pool->tail)
        pool->tail->next = j;
    else
        pool->head = j;
    pool->tail = j;
    pool->queued++;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    return true;
}

static void *slow_main(void *arg)
{
    slow_pool *pool = arg;
    pthread_setname_np(pthread_self(), pool->thread_name);
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (!pool->head && !pool->stop)
            pthread_cond_wait(&pool->cv, &pool->mu);
        slow_job *j = pool->head;
        if (!j)
            break; /* stopping, nothing left */
        pool->head = j->next;
        if (!pool->head)
            pool->tail = NULL;
        pool->queued--;
        bool stopping = pool->stop;
        pthread_mutex_unlock(&pool->mu);
        if (stopping)
            req_error(j->r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                      "the server is stopping; try again shortly", NULL);
        else
            j->fn(j->r);
        slow_resume(j->r);
        free(j);
        pthread_mutex_lock(&pool->mu);
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

/* Starts n threads (at least one must start); false if none could. */
static bool slow_pool_start(slow_pool *pool, server *s, const char *thread_name, const char *busy,
                            unsigned n)
{
    pool->srv = s;
    pool->thread_name = thread_name;
    pool->busy = busy;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    if (n > MAX_SLOW_THREADS)
        n = MAX_SLOW_THREADS;
    for (unsigned i = 0; i < n; i++) {
        if (pthread_create(&pool->threads[i], NULL, slow_main, pool) != 0)
            break;
        pool->nthreads = i + 1;
    }
    return pool->nthreads > 0;
}

/* Stops a pool's threads: what is queued is answered 503, what runs finishes. */
static void slow_pool_stop(slow_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    pool->stop = true;
    unsigned n = pool->nthreads;
    pool->nthreads = 0;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    for (unsigned i = 0; i < n; i++)
        pthread_join(pool->threads[i], NULL);
}

static void slow_stop_all(server *s)
{
    for (int k = 1; k < ROUTE_SLOW_KINDS; k++)
        if (s->pools[k].srv)
            slow_pool_stop(&s->pools[k]);
}

/* Routes and runs the request.  True when a slow thread has taken it: the
 * caller must not touch r again in this call (the thread may answer and resume
 * it at any moment). */
static bool dispatch(request *r)
{
    unsigned status = 0;
    const route *rt = routes_match(r, &status);
    if (!rt) {
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
            char msg[128], method[32];
            utf8_sanitize(r->method, method, sizeof method); /* client bytes */
            snprintf(msg, sizeof msg, "%s is not allowed here; use %s", method, r->allow);
            req_error(r, status, "method_not_allowed", msg, NULL);
        } else {
            req_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such resource", NULL);
        }
        return false;
    }
    if (r->body_too_big) {
        req_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                  "the request body is larger than the limit (1 MiB)", NULL);
        return false;
    }
    if (!authenticate(r, rt))
        return false;
    if (rt->slow > 0 && rt->slow < ROUTE_SLOW_KINDS)
        return slow_submit(&r->srv->pools[rt->slow], r, rt->handler);
    rt->handler(r);
    pthread_mutex_lock(&r->mu);
    bool silent = !r->answered && !r->pending;
    pthread_mutex_unlock(&r->mu);
    if (silent) {
        log_error("http: handler for %s %s gave no answer", r->method, r->path);
        req_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error", "no answer", NULL);
    }
    return false;
}

static enum MHD_Result send_answer(request *r)
{
    struct MHD_Response *resp;
    if (r->raw_owned) {
        resp = MHD_create_response_from_buffer(r->raw_len, r->raw_owned, MHD_RESPMEM_MUST_FREE);
        r->raw_owned = NULL;
        r->raw_reply = NULL;
    } else if (r->raw_reply) {
        resp = MHD_create_response_from_buffer(r->raw_len, (void *)r->raw_reply,
                                               MHD_RESPMEM_PERSISTENT);
    } else {
        /* reals with 15 significant digits: 1.06, not 1.0600000000000001 */
        char *text = r->reply ? json_dumps(r->reply, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
        if (!text) {
            text = strdup("{\"error\":{\"status\":500,\"code\":\"internal_error\","
                          "\"message\":\"cannot encode the answer\"}}");
            r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        }
        resp = text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE)
                    : NULL;
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : "application/json; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            r->cache_control ? r->cache_control : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(resp, "Permissions-Policy",
                            "camera=(), microphone=(), geolocation=(), payment=(), usb=()");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            r->csp ? r->csp : "default-src 'none'; frame-ancestors 'none'");
    if (r->content_encoding)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, r->content_encoding);
    if (r->vary)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, r->vary);
    if (r->srv_tls)
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    if (r->set_cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
    if (r->disposition[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, r->disposition);
    if (r->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (r->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"amparo\"");
    if (r->etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
    if (r->location[0] && r->status == MHD_HTTP_CREATED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r->allow[0] && r->status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    enum MHD_Result ret = MHD_queue_response(r->conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct server *srv = cls;
    request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->srv = srv;
    r->loop = this_loop;
    r->core = srv->core;
    r->started_us = clock_mono_us();
    pthread_mutex_init(&r->mu, NULL);
    size_t n = strnlen(uri, MAX_URI + 1);
    r->uri_too_long = n > MAX_URI;
    r->uri_copy = strndup(uri, n);
    if (!r->uri_copy)
        return r;
    r->path = r->uri_copy;
    char *q = strchr(r->uri_copy, '?');
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }
    (void)conn;
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    request *r = *con_cls;
    if (!r)
        return;
    /* a thread that resumed this connection may still hold the lock for a moment
     * (it touches nothing of r once it has let go) */
    pthread_mutex_lock(&r->mu);
    pthread_mutex_unlock(&r->mu);
    json_decref(r->reply);
    free(r->raw_owned);
    free(r->uri_copy);
    free(r->body);
    pthread_mutex_destroy(&r->mu);
    free(r);
    *con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct server *srv = cls;
    request *r = *con_cls;
    if (!r)
        return MHD_NO;
    if (!r->conn) { /* headers have arrived */
        r->conn = conn;
        snprintf(r->method, sizeof r->method, "%s", method);
        if (!r->uri_copy) {
            r->answered = true;
            req_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error", "out of memory", NULL);
        } else if (r->uri_too_long || (r->query && strlen(r->query) > PARSE_MAX_QUERY)) {
            req_error(r, MHD_HTTP_URI_TOO_LONG, "uri_too_long",
                      "the URI is too long (at most 8 KiB, of which 4 KiB of query)", NULL);
        }
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > srv->max_body)
            r->body_too_big = true;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->body_too_big || r->answered)
            return MHD_YES;
        if (r->body_len + n > srv->max_body) {
            r->body_too_big = true;
            free(r->body);
            r->body = NULL;
            r->body_len = r->body_cap = 0;
            return MHD_YES;
        }
        if (r->body_len + n + 1 > r->body_cap) {
            size_t cap = r->body_cap ? r->body_cap : 4096;
            while (cap < r->body_len + n + 1)
                cap *= 2;
            char *grown = realloc(r->body, cap);
            if (!grown)
                return MHD_NO;
            r->body = grown;
            r->body_cap = cap;
        }
        memcpy(r->body + r->body_len, upload_data, n);
        r->body_len += n;
        r->body[r->body_len] = '\0';
        return MHD_YES;
    }
    pthread_mutex_lock(&r->mu);
    bool answered = r->answered, pending = r->pending;
    pthread_mutex_unlock(&r->mu);
    if (!answered && !pending) {
        if (dispatch(r))
            return MHD_YES; /* a slow thread answers it and resumes the connection */
        pthread_mutex_lock(&r->mu);
        answered = r->answered && !r->suspended;
        pthread_mutex_unlock(&r->mu);
    }
    if (!answered)
        return MHD_YES; /* suspended until the write is durable */
    return send_answer(r);
}

/* ==== start and stop ======================================================== */

static int parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6, char *err,
                        size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || !colon[1]) {
        snprintf(err, errlen, "listen address '%s' is not HOST:PORT", listen);
        return -1;
    }
    size_t hl = (size_t)(colon - listen);
    if (listen[0] == '[' && hl >= 2 && listen[hl - 1] == ']') {
        listen++;
        hl -= 2;
    }
    if (hl >= sizeof host) {
        snprintf(err, errlen, "host name too long");
        return -1;
    }
    memcpy(host, listen, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve listen address '%s': %s", listen, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

/* The listening socket all the server's daemons accept on; -1 with err set. */
static int open_listener(const struct sockaddr_storage *ss, bool v6, const char *listen_text,
                         char *err, size_t errlen)
{
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open a socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (v6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, errlen, "cannot listen on %s (address in use, or not allowed)", listen_text);
        close(fd);
        return -1;
    }
    return fd;
}

static unsigned bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* One server thread: wait for activity, then a round (see the top of the file). */
static void *loop_main(void *arg)
{
    loop *l = arg;
    this_loop = l;
    pthread_setname_np(pthread_self(), "amparo-http");
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    int epoll_fd = info ? info->epoll_fd : -1;
    bool again = false;
    while (!atomic_load(&l->srv->stopping)) {
        if (atomic_load(&l->srv->closing) && !atomic_load(&l->quiesced)) {
            MHD_quiesce_daemon(l->daemon); /* here: the daemon is this thread's alone */
            atomic_store(&l->quiesced, true);
        }
        bool woken = false;
        if (!again) {
            MHD_UNSIGNED_LONG_LONG timeout = 0;
            int ms = LOOP_WAIT_MS;
            if (MHD_get_timeout(l->daemon, &timeout) == MHD_YES && timeout < (unsigned)ms)
                ms = (int)timeout;
            struct pollfd fds[2] = {{.fd = epoll_fd, .events = POLLIN},
                                    {.fd = l->wake_fd, .events = POLLIN}};
            woken = poll(fds, 2, ms) > 0 && (fds[1].revents & POLLIN);
        }
        /* before the run: a resume after this either is seen by it or wakes again */
        atomic_store(&l->wake_sent, false);
        if (woken) {
            uint64_t n;
            ssize_t got = read(l->wake_fd, &n, sizeof n);
            (void)got;
        }
        run_again = false;
        audit_round_begin();
        MHD_run(l->daemon);
        audit_round_end(l->srv->core);
        again = run_again;
    }
    this_loop = NULL;
    return NULL;
}

/* Stops the daemons (and threads) of s->loops[0..n); the listening socket stays. */
static void stop_loops(server *s, unsigned n)
{
    atomic_store(&s->stopping, true);
    for (unsigned i = 0; i < n; i++) {
        if (s->loops[i].running) {
            loop_wake(&s->loops[i]);
            pthread_join(s->loops[i].thread, NULL);
            s->loops[i].running = false;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        if (!atomic_load(&s->loops[i].quiesced)) /* else MHD would close the shared socket */
            MHD_quiesce_daemon(s->loops[i].daemon);
        MHD_stop_daemon(s->loops[i].daemon);
        close(s->loops[i].wake_fd);
    }
}

server *server_start(core *c, const server_options *opt, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    bool v6 = false;
    const char *listen_text = opt->listen ? opt->listen : "127.0.0.1:8080";
    if (parse_listen(listen_text, &ss, &v6, err, errlen) < 0)
        return NULL;
    if (!opt->acc) {
        snprintf(err, errlen, "the server needs accounts");
        return NULL;
    }
    bool tls = opt->tls_cert != NULL;
    if (tls && (!opt->tls_key || MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)) {
        snprintf(err, errlen,
                 opt->tls_key ? "this libmicrohttpd has no TLS support"
                              : "a TLS certificate needs its key (--tls-key)");
        return NULL;
    }
    server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->core = c;
    s->acc = opt->acc;
    s->tls = tls;
    if (!routes_schema_json) {
        char *text = json_dumps(catalogue_json(core_catalogue(c)), JSON_COMPACT);
        routes_schema_len = text ? strlen(text) : 0;
        routes_schema_json = text;
    }
    s->max_body = opt->max_body ? opt->max_body : DEFAULT_MAX_BODY;
    unsigned threads = opt->threads;
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 2;
    }
    if (threads > MAX_LOOPS)
        threads = MAX_LOOPS;
    s->listen_fd = open_listener(&ss, v6, listen_text, err, errlen);
    if (s->listen_fd < 0) {
        free(s);
        return NULL;
    }
    s->port = bound_port(s->listen_fd);
    /* external polling: each daemon is run by its own thread (loop_main) */
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
                     (v6 ? MHD_USE_IPv6 : 0) | (tls ? MHD_USE_TLS : 0);
    /* TLS 1.2 and 1.3 only, with GnuTLS's secure suites */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)opt->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)opt->tls_key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0,
         (void *)"SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
        {MHD_OPTION_END, 0, NULL},
    };
    if (!tls)
        tls_opts[0].option = MHD_OPTION_END;
    unsigned per_loop_limit = 2048 / threads;
    for (unsigned i = 0; i < threads; i++) {
        loop *l = &s->loops[i];
        l->srv = s;
        l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        l->daemon = l->wake_fd < 0
                        ? NULL
                        : MHD_start_daemon(
                              flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, tls_opts,
                              MHD_OPTION_LISTEN_SOCKET, s->listen_fd, MHD_OPTION_URI_LOG_CALLBACK,
                              on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                              MHD_OPTION_CONNECTION_LIMIT, per_loop_limit,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)12288, MHD_OPTION_END);
        if (!l->daemon) {
            if (l->wake_fd >= 0)
                close(l->wake_fd);
            snprintf(err, errlen, "cannot serve on %s", listen_text);
            stop_loops(s, i);
            close(s->listen_fd);
            free(s);
            return NULL;
        }
        s->nloops = i + 1;
    }
    /* as many hashing threads as sign-ins may hash at once (cmd_serve.c), and as
     * many for long exports and checks; started before the HTTP threads, which
     * read their counts */
    unsigned nslow = threads > 2 ? threads / 2 : 1;
    if (!slow_pool_start(&s->pools[ROUTE_SLOW_HASHING], s, "amparo-hash",
                         "the server is busy with other sign-ins and password changes; try again",
                         nslow) ||
        !slow_pool_start(&s->pools[ROUTE_SLOW_LONG], s, "amparo-long",
                         "the server is busy with other exports and checks; try again", nslow)) {
        snprintf(err, errlen, "cannot start the server's threads");
        slow_stop_all(s);
        stop_loops(s, s->nloops);
        close(s->listen_fd);
        free(s);
        return NULL;
    }
    for (unsigned i = 0; i < s->nloops; i++) {
        if (pthread_create(&s->loops[i].thread, NULL, loop_main, &s->loops[i]) != 0) {
            slow_stop_all(s);
            snprintf(err, errlen, "cannot start the server's threads");
            stop_loops(s, s->nloops);
            close(s->listen_fd);
            free(s);
            return NULL;
        }
        s->loops[i].running = true;
    }
    return s;
}

unsigned server_port(const server *s)
{
    return s->port;
}

void server_stop(server *s)
{
    if (!s)
        return;
    /* no new connections: each thread quiesces its own daemon */
    atomic_store(&s->closing, true);
    for (unsigned i = 0; i < s->nloops; i++)
        loop_wake(&s->loops[i]);
    for (int i = 0; i < 500; i++) {
        unsigned done = 0;
        for (unsigned k = 0; k < s->nloops; k++)
            done += atomic_load(&s->loops[k].quiesced);
        if (done == s->nloops)
            break;
        usleep(2000);
    }
    /* writes in flight finish and answer before the daemons go away */
    for (int i = 0; i < 500 && atomic_load(&s->inflight) > 0; i++)
        usleep(10000);
    usleep(20000);
    slow_stop_all(s); /* they resume connections: before the daemons go */
    stop_loops(s, s->nloops);
    close(s->listen_fd);
    for (int k = 1; k < ROUTE_SLOW_KINDS; k++) {
        pthread_mutex_destroy(&s->pools[k].mu);
        pthread_cond_destroy(&s->pools[k].cv);
    }
    free(s);
}

/* request.h — one HTTP request as the handlers see it (internal to src/http). */
#ifndef AMPARO_REQUEST_H
#define AMPARO_REQUEST_H

#include "core/core.h"
#include "http/parse.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>

#define ROUTE_MAX_PARAMS 4

typedef struct request request;
typedef void (*handler_fn)(request *req);

struct request {
    struct server *srv;
    struct loop *loop; /* the server thread that runs this connection */
    core *core;
    struct MHD_Connection *conn;
    char method[8];
    char *uri;   /* as received: path and query */
    char *path;  /* points into uri_copy */
    char *query; /* raw query string or NULL */
    char *uri_copy;
    bool uri_too_long;
    char *body;
    size_t body_len, body_cap;
    bool body_too_big;
    const char *params[ROUTE_MAX_PARAMS]; /* path parameters, in pattern order */
    char param_store[256];
    principal who;

    /* the answer */
    bool answered;
    unsigned status;
    json_t *reply;         /* owned */
    const char *raw_reply; /* bytes to send instead of reply: static, or raw_owned */
    char *raw_owned;       /* malloc'd raw_reply, handed to libmicrohttpd */
    size_t raw_len;
    const char *content_type;
    const char *cache_control; /* static string; NULL: "no-store" */
    const char *csp; /* static string; NULL: "default-src 'none'; frame-ancestors 'none'" */
    const char *content_encoding; /* static string ("gzip"), or NULL */
    const char *vary;             /* static string ("Accept-Encoding"), or NULL */
    char disposition[128];        /* a Content-Disposition value (file downloads), or "" */
    bool srv_tls;                 /* served over TLS (HSTS, Secure cookies) */
    char etag[32];
    char location[160];
    char allow[64];
    int retry_after;      /* seconds, for a Retry-After header, or 0 */
    char set_cookie[256]; /* a Set-Cookie header value, or "" */
    char csrf[64];        /* the session's CSRF token (cookie sessions), or "" */
    bool via_cookie;      /* authenticated by the session cookie (CSRF applies) */
    char token_hash[72];  /* the session or API token's hash, or "" */
    char client_addr[64]; /* the peer address */
    int64_t started_us;

    /* asynchronous writes */
    pthread_mutex_t mu;
    bool pending, suspended;
};

/* ---- helpers for handlers (server.c) ---- */

/** Answers with a JSON body (takes ownership of body). */
void req_reply(request *r, unsigned status, json_t *body);

/** Answers with JSON text already built (takes ownership of text, from malloc). */
void req_reply_text(request *r, unsigned status, char *text, size_t len);

/** Answers with the error shape: {"error": {status, code, message, fields}}. */
void req_error(request *r, unsigned status, const char *code, const char *message, json_t *fields);

/** Answers with the error that the core reported. */
void req_fail(request *r, const amp_err *err);

/** The request's header value, or NULL. */
const char *req_header(request *r, const char *name);

/** Parses the JSON body (answering 400/415 itself on failure; NULL then). */
json_t *req_json_body(request *r);

/** The version from If-Match ("3", W/"3" or 3): >0, 0 if absent, -1 if malformed
 *  (the request has then been answered with 400). */
int64_t req_if_match(request *r);

/** Starts an asynchronous write: call it before the core function, then
 *  req_async_end with the core's return code. */
void req_async_begin(request *r);
void req_async_end(request *r, amp_code code, amp_err *err);

/** The core callback that completes an asynchronous write (arg: the request).
 *  A result with "version" sets the ETag; `created` answers 201 + Location. */
void req_write_done(void *arg, amp_code code, json_t *result, char *text, amp_err *err);
void req_create_done(void *arg, amp_code code, json_t *result, char *text, amp_err *err);

/* ---- routes (routes.c) ---- */

/* Who may call a route (route.access).  The default, 0, is any signed-in user
 * whose session is complete; the handler's core call then checks the roles. */
enum {
    ROUTE_SIGNED_IN = 0,
    ROUTE_PUBLIC = 1,      /* no credentials needed: login, health, documentation, the UI */
    ROUTE_MFA_PENDING = 2, /* also open to a session that must still enrol a second factor */
};

/* Routes whose handlers take long run on threads of their own (route.slow),
 * one pool per kind, while their connection waits; the handler must answer
 * before it returns (no asynchronous store calls). */
enum {
    ROUTE_SLOW_HASHING = 1, /* password hashing: sign-in, password changes */
    ROUTE_SLOW_LONG = 2,    /* exports and checks that can take seconds */
    ROUTE_SLOW_KINDS = 3,
};

typedef struct {
    const char *method;
    const char *pattern; /* "/api/v1/cases/:id" */
    handler_fn handler;
    int access; /* ROUTE_SIGNED_IN (default), ROUTE_PUBLIC or ROUTE_MFA_PENDING */
    int slow;   /* 0, or ROUTE_SLOW_HASHING / ROUTE_SLOW_LONG: run off the HTTP threads */
} route;

/** Finds the route; fills r->params.  Returns it, or NULL with *status 404 (no
 *  such path) or 405 (path exists; r->allow lists the methods). */
const route *routes_match(request *r, unsigned *status);

/** Calls fn for every route of every module, in matching order. */
void routes_each(void (*fn)(const route *rt, void *arg), void *arg);

/** The accounts of the server (for the authentication routes). */
struct accounts *req_accounts(request *r);

/** Serialised documents served as they are (set up by server.c). */
extern const char *routes_schema_json;
extern size_t routes_schema_len;

#endif

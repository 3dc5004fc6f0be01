/* routes_ui.c — serves the web UI: "/" (index.html) and /assets/<build>/...
 * from memory, with the UI's own Content-Security-Policy, ETags (304 on
 * If-None-Match), long-lived caching of build-stamped URLs and gzip when the
 * client accepts it.
 *
 * The pipeline's answer (send_answer in server.c) adds the API's headers —
 * "Cache-Control: no-store" and "Content-Security-Policy: default-src 'none'" —
 * which would stop the browser from running the app, so these handlers queue
 * their own response on the connection and mark the request as taken care of
 * (pending, never completed by a write), which the pipeline leaves alone. */
#include "http/request.h"
#include "http/ui_assets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Scripts, styles, fonts and API calls only from this origin; images also as
 * data: URIs (the TOTP QR code); no framing, no plugins, no inline script. */
#define UI_CSP                                                                                     \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "                  \
    "form-action 'self'; frame-ancestors 'none'"

#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE "no-cache"

static const ui_asset *find_asset(const char *rel)
{
    size_t lo = 0, hi = ui_assets_count;
    while (lo < hi) { /* the generator sorts by path */
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ui_assets[mid].path, rel);
        if (c == 0)
            return &ui_assets[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* True when Accept-Encoding accepts gzip: a "gzip" or "*" coding whose
 * q-value (default 1) is above 0. */
static bool accepts_gzip(const char *ae)
{
    if (!ae)
        return false;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", ae);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        tok += strspn(tok, " \t");
        size_t nl = strcspn(tok, " \t;");
        if (!((nl == 4 && strncasecmp(tok, "gzip", 4) == 0) || (nl == 1 && tok[0] == '*')))
            continue;
        const char *q = strstr(tok + nl, "q=");
        return !q || strtod(q + 2, NULL) > 0.0;
    }
    return false;
}

/* True when If-None-Match names etag (or is "*"). */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    if (strcmp(inm, "*") == 0)
        return true;
    size_t n = strlen(etag);
    for (const char *p = inm; (p = strstr(p, etag)) != NULL; p += n) {
        const char *e = p + n;
        if (*e == '\0' || *e == ',' || *e == ' ')
            return true;
    }
    return false;
}

static void add_common_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy", UI_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(resp, "Permissions-Policy",
                            "camera=(), microphone=(), geolocation=(), payment=(), usb=()");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
}

/* Queues the asset (or 304) on the connection with the UI's headers. */
static void send_asset(request *r, const ui_asset *a, const char *cache)
{
    bool gz = a->gz && accepts_gzip(req_header(r, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    const char *etag = gz ? a->etag_gz : a->etag;
    bool not_modified = etag_matches(req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH), etag);
    struct MHD_Response *resp;
    unsigned status;
    if (not_modified) {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_NOT_MODIFIED;
    } else {
        resp = MHD_create_response_from_buffer(
            gz ? a->gz_len : a->len, (void *)(gz ? a->gz : a->data), MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_OK;
    }
    if (!resp) {
        req_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "out of memory", NULL);
        return;
    }
    add_common_headers(resp);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    if (!not_modified) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
        if (gz)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    }
    enum MHD_Result ok = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    if (ok != MHD_YES) {
        req_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "cannot answer", NULL);
        return;
    }
    /* answered here, on the connection: the pipeline must not answer again */
    pthread_mutex_lock(&r->mu);
    r->pending = true;
    pthread_mutex_unlock(&r->mu);
}

static void h_index(request *r)
{
    const ui_asset *a = find_asset("index.html");
    if (!a) {
        req_error(r, MHD_HTTP_NOT_FOUND, "not_found", "this build has no web UI", NULL);
        return;
    }
    send_asset(r, a, CACHE_REVALIDATE);
}

/* /assets/<build>/<path>: immutable when <build> is this build's; an older
 * page asking for its build's files gets today's, revalidated. */
static void h_asset(request *r)
{
    const char *p = r->path + strlen("/assets/");
    const char *slash = strchr(p, '/');
    if (!slash || strstr(slash, "..") || strstr(slash, "//")) {
        req_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such resource", NULL);
        return;
    }
    const ui_asset *a = find_asset(slash + 1);
    if (!a || strcmp(a->path, "index.html") == 0) {
        req_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such resource", NULL);
        return;
    }
    bool current = (size_t)(slash - p) == strlen(ui_build_id) &&
                   strncmp(p, ui_build_id, (size_t)(slash - p)) == 0;
    send_asset(r, a, current ? CACHE_IMMUTABLE : CACHE_REVALIDATE);
}

const route routes_ui[] = {
    {"GET", "/", h_index},
    {"GET", "/index.html", h_index},
    {"GET", "/assets/:build/:a", h_asset},
    {"GET", "/assets/:build/:a/:b", h_asset},
    {"GET", "/assets/:build/:a/:b/:c", h_asset},
    {NULL, NULL, NULL},
};

/* routes_ui.c — serves the web UI: "/" (index.html) and /assets/<build>/...
 * from memory, with the UI's own Content-Security-Policy, ETags (304 on
 * If-None-Match), long-lived caching of build-stamped URLs and gzip when the
 * client accepts it.  The routes are public: the sign-in screen is part of
 * the app.  The answer goes through the pipeline like any other, with the
 * UI's own Content-Security-Policy and caching in place of the API's
 * (request.csp, cache_control, content_encoding, vary). */
#include "http/request.h"
#include "http/ui_assets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Scripts, styles, fonts and API calls only from this origin; images also as
 * data: URIs (the TOTP QR code); no framing, no plugins, no inline script.
 * (The pipeline adds nosniff, no-referrer and X-Frame-Options: DENY.) */
#define UI_CSP                                                                                     \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "                  \
    "form-action 'self'; frame-ancestors 'none'"

#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE "no-cache"

/* The number of assets compiled in (0 when the generated file is absent). */
static size_t asset_count(void)
{
    return &ui_assets_count != NULL ? ui_assets_count : 0;
}

static const ui_asset *find_asset(const char *rel)
{
    size_t lo = 0, hi = asset_count();
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

/* Answers with the asset (or 304 Not Modified) and the UI's headers. */
static void send_asset(request *r, const ui_asset *a, const char *cache)
{
    bool gz = a->gz && accepts_gzip(req_header(r, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    const char *etag = gz ? a->etag_gz : a->etag;
    r->csp = UI_CSP;
    r->cache_control = cache;
    r->vary = "Accept-Encoding";
    snprintf(r->etag, sizeof r->etag, "%s", etag);
    if (etag_matches(req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH), etag)) {
        r->raw_reply = "";
        r->raw_len = 0;
        r->status = MHD_HTTP_NOT_MODIFIED;
    } else {
        r->raw_reply = (const char *)(gz ? a->gz : a->data);
        r->raw_len = gz ? a->gz_len : a->len;
        r->content_encoding = gz ? "gzip" : NULL;
        r->status = MHD_HTTP_OK;
    }
    r->content_type = a->type;
    r->answered = true;
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
    const char *build = ui_build_id != NULL ? ui_build_id : "";
    bool current =
        (size_t)(slash - p) == strlen(build) && strncmp(p, build, (size_t)(slash - p)) == 0;
    send_asset(r, a, current ? CACHE_IMMUTABLE : CACHE_REVALIDATE);
}

const route routes_ui[] = {
    {"GET", "/", h_index, ROUTE_PUBLIC},
    {"GET", "/index.html", h_index, ROUTE_PUBLIC},
    {"GET", "/assets/:build/:a", h_asset, ROUTE_PUBLIC},
    {"GET", "/assets/:build/:a/:b", h_asset, ROUTE_PUBLIC},
    {"GET", "/assets/:build/:a/:b/:c", h_asset, ROUTE_PUBLIC},
    {NULL, NULL, NULL, 0},
};

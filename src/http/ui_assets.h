/* ui_assets.h — the web UI's files, compiled into the binary by
 * tools/gen-ui-assets.py (see the Makefile) and served by routes_ui.c. */
#ifndef AMPARO_UI_ASSETS_H
#define AMPARO_UI_ASSETS_H

#include <stddef.h>

/** One file of web/, in static memory. */
typedef struct {
    const char *path; /* relative to web/: "index.html", "js/main.js" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* gzip copy, or NULL when it would not be smaller */
    size_t gz_len;
    const char *etag;    /* strong ETag of data, quoted */
    const char *etag_gz; /* strong ETag of the gzip copy, quoted */
} ui_asset;

/* Weak, so that src/ links without the generated file too (the fuzz targets
 * build from the sources alone): routes_ui.c then answers that this build has
 * no web UI. */

/** Every asset (sorted by path, as the generator writes them). */
extern const ui_asset ui_assets[] __attribute__((weak));
extern const size_t ui_assets_count __attribute__((weak));

/** A hash of all the assets: the /assets/<build>/ prefix of this build. */
extern const char ui_build_id[] __attribute__((weak));

#endif

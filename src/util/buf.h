/* buf.h — a growable byte buffer for building JSON text by hand on hot paths.
 *
 * Invariant: after buf_init, `data` is either NULL (nothing added yet) or a
 * NUL-terminated string of `len` bytes.  A failed allocation sets `oom` and makes
 * every later call a no-op, so callers check once at the end. */
#ifndef AMPARO_BUF_H
#define AMPARO_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data;
    size_t len, cap;
    bool oom;
} buf;

void buf_init(buf *b);
/** Frees the contents and re-initialises b. */
void buf_release(buf *b);
void buf_add(buf *b, const char *s, size_t n);
void buf_adds(buf *b, const char *s);
void buf_addc(buf *b, char c);
/** Adds s as a JSON string literal, quoted and escaped. */
void buf_add_json_string(buf *b, const char *s);
/** Adds a decimal integer. */
void buf_add_int(buf *b, long long v);

/** Adds s[n] as a JSON string the way jansson escapes it ('"', '\\', \b \f \n
 *  \r \t, other control characters as \u00XX; s is valid UTF-8). */
void buf_add_json_str(buf *b, const char *s, size_t n);

struct json_t;
/** Adds v as compact JSON text: byte for byte what jansson's
 *  json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes (members in their
 *  order; strings escaped as jansson does), without building it through
 *  jansson's callbacks.  Sets oom (so buf_detach gives NULL) when v cannot be
 *  serialised. */
void buf_add_json(buf *b, const struct json_t *v);
/** Hands the contents to the caller (who frees them with free()); b is reset.
 *  NULL if an allocation failed. */
char *buf_detach(buf *b, size_t *len);

#endif

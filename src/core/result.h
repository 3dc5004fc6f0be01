/* result.h — how the domain core reports failure.
 *
 * Every core operation returns an amp_code; on failure it also fills an amp_err
 * whose `fields` array (may be NULL) lists each failing field as
 * {"field": F, "rule": R, "message": M}.  The HTTP layer maps codes to statuses;
 * the CLI maps them to exit codes.  Nothing here knows HTTP. */
#ifndef AMPARO_RESULT_H
#define AMPARO_RESULT_H

#include <jansson.h>

typedef enum {
    AMP_OK = 0,
    AMP_EBADREQ,    /* the request itself is malformed (not JSON, wrong shape) */
    AMP_EINVALID,   /* well-formed, but fields break catalogue rules */
    AMP_ENOTFOUND,  /* no such record */
    AMP_ECONFLICT,  /* version in the body is stale */
    AMP_EPRECOND,   /* If-Match version is stale */
    AMP_ENEEDVER,   /* an update without a version to check */
    AMP_ETOOBIG,    /* a bound was exceeded */
    AMP_EUNAUTH,    /* no valid credentials */
    AMP_EFORBIDDEN, /* authenticated, but the role or organisation may not do this */
    AMP_ETHROTTLED, /* too many attempts: try again later */
    AMP_ESTATE,     /* the record's state does not allow this (an illegal transition) */
    AMP_EINTERNAL   /* storage or resource failure: logged, never the client's fault */
} amp_code;

typedef struct {
    amp_code code;
    char message[256];
    json_t *fields;  /* array of field errors, owned; NULL when none */
    char name[32];   /* a more precise machine-readable code ("totp_required"), or "" */
    int retry_after; /* AMP_ETHROTTLED: seconds to wait, or 0 */
} amp_err;

/** Clears e (frees its field list). */
void amp_err_clear(amp_err *e);

/** Sets code and a printf-style message; returns code. */
amp_code amp_err_set(amp_err *e, amp_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Appends {"field","rule","message"} to e->fields (creating it). */
void amp_err_field(amp_err *e, const char *field, const char *rule, const char *message);

/** Copies the UTF-8 string in into out[n], replacing each byte that does not
 *  begin a valid UTF-8 sequence with '?' and cutting only at character
 *  boundaries.  Returns the length written.  (Client bytes quoted in messages
 *  pass through here, so every error can be encoded as JSON.) */
size_t utf8_sanitize(const char *in, char *out, size_t n);

/** A short machine-readable name for a code: "validation_failed", "not_found"… */
const char *amp_code_name(amp_code code);

#endif

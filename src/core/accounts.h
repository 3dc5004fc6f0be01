/* accounts.h — users, authentication and sessions.
 *
 * Passwords are hashed with argon2id (libsodium crypto_pwhash_str; see
 * docs/SECURITY.md for the parameters).  A login gives a session token of 256
 * random bits; only its BLAKE2b-256 hash is stored.  Sessions expire after an
 * idle period and at an absolute limit; API tokens are scoped to a subset of
 * their owner's roles and revocable.  A TOTP second factor (RFC 6238) can be
 * enrolled by any user and required for roles.  Logins are throttled per
 * account and per address, and an unknown user takes the same time and gets the
 * same answer as a wrong password.
 *
 * The accounts object is process-wide: it caches sessions (revalidated against
 * the store every few seconds) and keeps the throttling counters in memory. */
#ifndef AMPARO_ACCOUNTS_H
#define AMPARO_ACCOUNTS_H

#include "core/core.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct accounts accounts;

typedef enum { PWHASH_MIN, PWHASH_INTERACTIVE, PWHASH_MODERATE } pwhash_level;

typedef struct {
    int64_t session_idle_ms;     /* default 30 minutes */
    int64_t session_max_ms;      /* default 12 hours */
    pwhash_level pwhash;         /* default PWHASH_INTERACTIVE; MIN only for tests */
    uint32_t mfa_required_roles; /* roles that must use a second factor */
    int max_failures_account;    /* failures per account in the window before lock-out (5) */
    int max_failures_addr;       /* failures per address in the window (20) */
    int64_t window_ms;           /* 15 minutes */
    int login_concurrency;       /* password hashes computed at once (1) */
    uint8_t secret_key[32];      /* seals TOTP secrets at rest */
} accounts_settings;

/** Default settings (secret_key zero: set it). */
void accounts_settings_default(accounts_settings *s);

/** Reads settings from the data directory: amparo.conf keys session_idle_minutes
 *  (or _seconds), session_max_hours (or session_max_seconds), pwhash (min|interactive|moderate),
 * mfa_required_roles (comma-separated role names), login_max_failures, login_max_failures_address,
 *  login_window_minutes; the secret key from keys/index.key (created 0600 if
 *  missing).  0, or -1 with err set. */
int accounts_settings_load(accounts_settings *s, const char *data_dir, char *err, size_t errlen);

/** As accounts_settings_load, deriving the TOTP sealing key from the keyring's
 *  index key (so $AMPARO_KEY_DIR and $AMPARO_INDEX_KEY apply) when index_key is
 *  not NULL. */
int accounts_settings_load_key(accounts_settings *s, const char *data_dir,
                               const unsigned char *index_key, char *err, size_t errlen);

accounts *accounts_new(core *c, const accounts_settings *settings);
void accounts_free(accounts *a);
core *accounts_core(accounts *a);

/* ---- authentication ---- */

typedef struct {
    char token[64];              /* the session token (base64url), shown once */
    char csrf[64];               /* the CSRF token to send as X-CSRF-Token with cookie sessions */
    int64_t expires_ms;          /* absolute expiry */
    bool mfa_enrolment_required; /* the session may only enrol a second factor */
    json_t *user; /* {"username","org","roles","lang","display_name","mfa_enrolled"}, owned */
} login_result;

void login_result_release(login_result *r);

/** Checks a password (and TOTP code when the user has one) and opens a session.
 *  Failures: AMP_EUNAUTH (name "invalid_credentials", or "totp_required" /
 *  "totp_invalid" when the password was right), AMP_ETHROTTLED with
 *  err->retry_after.  Every attempt is audited. */
amp_code accounts_login(accounts *a, const char *username, const char *password, const char *totp,
                        const char *addr, const char *lang, login_result *out, amp_err *err);

/** What a valid token says about the request. */
typedef struct {
    char kind[12]; /* "session" or "api" */
    char csrf[64]; /* sessions */
    bool mfa_pending;
} auth_info;

/** Resolves a session or API token into a principal (actor, org, roles ∩ token
 *  scope, user_id, lang).  AMP_EUNAUTH when unknown, expired, revoked or the
 *  user is disabled.  Refreshes the idle timer.  token_hash (72 bytes) receives
 *  the token's hash, for logout. */
amp_code accounts_authenticate(accounts *a, const char *token, principal *p, auth_info *info,
                               char token_hash[72], amp_err *err);

/** Ends the session with this token hash. */
amp_code accounts_logout(accounts *a, const principal *p, const char *token_hash, amp_err *err);

/* ---- the signed-in user ---- */

/** {"user": {...}, "permissions": {resource: [actions]}} */
amp_code accounts_me(accounts *a, const principal *p, json_t **out, amp_err *err);
/** Applies {"lang", "display_name", "password": {"current","new"}} to the caller. */
amp_code accounts_me_update(accounts *a, const principal *p, const json_t *body, json_t **out,
                            amp_err *err);
/** Starts TOTP enrolment: {"secret" (base32), "otpauth_uri", "qr_svg"}. */
amp_code accounts_totp_begin(accounts *a, const principal *p, json_t **out, amp_err *err);
/** Confirms enrolment with a current code. */
amp_code accounts_totp_confirm(accounts *a, const principal *p, const char *code, amp_err *err);

/* ---- administration (system admins: every organisation; organisation admins:
 *      their own, and never the sysadmin role) ---- */

/** Creates a user: {"username", "org", "roles": [...], "password", "lang",
 *  "display_name"}.  A missing password is generated and returned once in
 *  "password". */
amp_code accounts_user_create(accounts *a, const principal *p, const json_t *body, json_t **out,
                              amp_err *err);
amp_code accounts_user_update(accounts *a, const principal *p, const char *username,
                              const json_t *patch, json_t **out, amp_err *err);
amp_code accounts_user_get(accounts *a, const principal *p, const char *username, json_t **out,
                           amp_err *err);
amp_code accounts_user_list(accounts *a, const principal *p, json_t **out, amp_err *err);
/** Disables (or enables) a user; disabling revokes their sessions and tokens. */
amp_code accounts_user_disable(accounts *a, const principal *p, const char *username, bool disabled,
                               amp_err *err);
/** Sets a new password (NULL: generated, returned in *generated (malloc'd)) and
 *  revokes the user's sessions. */
amp_code accounts_user_reset_password(accounts *a, const principal *p, const char *username,
                                      const char *password, char **generated, amp_err *err);
/** Removes a user's second factor (lost phone). */
amp_code accounts_user_reset_totp(accounts *a, const principal *p, const char *username,
                                  amp_err *err);

/* ---- API tokens ---- */

/** {"name", "roles": [...] (default: all of the caller's), "expires_days"} →
 *  {"token" (shown once), "id", "name", "roles", "expires_at"}. */
amp_code accounts_token_create(accounts *a, const principal *p, const json_t *body, json_t **out,
                               amp_err *err);
amp_code accounts_token_list(accounts *a, const principal *p, json_t **out, amp_err *err);
/** Revokes one of the caller's tokens by its id (a prefix of its hash). */
amp_code accounts_token_revoke(accounts *a, const principal *p, const char *id, amp_err *err);

/* ---- helpers shared with the CLI ---- */

/** Checks the password policy (12–1024 bytes, valid UTF-8, not the username). */
amp_code accounts_password_ok(const char *username, const char *password, amp_err *err);

/** Hashes a password at the configured level into out[160]. */
int accounts_hash_password(const accounts *a, const char *password, char out[160]);

/** Writes a random password of 20 characters into out[24]. */
void accounts_generate_password(char out[24]);

#endif

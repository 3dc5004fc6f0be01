/* accounts.c — users, logins, sessions, API tokens, throttling and TOTP. */
#include "core/accounts.h"
#include "core/audit.h"
#include "util/clock.h"
#include "util/conf.h"
#include "util/log.h"

#include <ctype.h>
#include <strings.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <liboath/oath.h>
#include <pthread.h>
#include <qrencode.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_SLOTS 1024
#define CACHE_REVALIDATE_MS 5000 /* a cached session is checked against the store this often */
#define TOUCH_PERSIST_MS 60000   /* idle timers are written back at most this often */
#define THROTTLE_SLOTS 4096
#define TOTP_STEP 30
#define TOTP_WINDOW 1 /* codes one step early or late are accepted */

/* ==== state ==================================================================== */

typedef struct {
    bool used;
    char token_hash[72];
    store_session sess;
    char username[64], org[72], lang[8];
    uint32_t user_roles;
    int64_t fetched_ms, persisted_seen_ms;
} cached_session;

typedef struct {
    char key[80]; /* "u:name" or "a:address" */
    int failures;
    int64_t window_start_ms, locked_until_ms;
} throttle_slot;

struct accounts {
    core *c;
    store *s;
    accounts_settings set;
    char dummy_hash[160]; /* verified against for unknown users: equal timing */
    pthread_mutex_t mu;   /* guards cache and throttle */
    cached_session cache[CACHE_SLOTS];
    throttle_slot throttle[THROTTLE_SLOTS];
    pthread_mutex_t login_mu; /* guards logins_running */
    int logins_running;
};

/* ==== settings =================================================================== */

void accounts_settings_default(accounts_settings *s)
{
    memset(s, 0, sizeof *s);
    s->session_idle_ms = 30 * 60 * 1000LL;
    s->session_max_ms = 12 * 3600 * 1000LL;
    s->pwhash = PWHASH_INTERACTIVE;
    s->mfa_required_roles = 0;
    s->max_failures_account = 5;
    s->max_failures_addr = 20;
    s->window_ms = 15 * 60 * 1000LL;
    s->login_concurrency = 1;
}

/* Reads (or creates, 0600) a 32-byte key file. */
static int key_file(const char *path, uint8_t key[32], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        uint8_t fresh[32];
        randombytes_buf(fresh, sizeof fresh);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            bool ok = write(fd, fresh, sizeof fresh) == (ssize_t)sizeof fresh && fsync(fd) == 0;
            close(fd);
            sodium_memzero(fresh, sizeof fresh);
            if (!ok) {
                snprintf(err, errlen, "cannot write '%s'", path);
                return -1;
            }
        }
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        snprintf(err, errlen, "'%s' must be readable by its owner only (chmod 600)", path);
        return -1;
    }
    ssize_t n = read(fd, key, 32);
    close(fd);
    if (n != 32) {
        snprintf(err, errlen, "'%s' does not hold a 32-byte key", path);
        return -1;
    }
    return 0;
}

int accounts_settings_load(accounts_settings *s, const char *data_dir, char *err, size_t errlen)
{
    return accounts_settings_load_key(s, data_dir, NULL, err, errlen);
}

typedef struct {
    accounts_settings *s;
    char *err;
    size_t errlen;
    bool failed;
} settings_read;

/* The numeric settings: whole numbers from 1 to max, in units of `scale` ms
 * (or plain counts when scale is 0). */
typedef struct {
    const char *key;
    long long scale, max;
    size_t offset; /* of the int64_t (scale > 0) or int (scale 0) it sets */
} numeric_setting;

#define AT(field) offsetof(accounts_settings, field)
static const numeric_setting numeric_settings[] = {
    {"session_idle_minutes", 60000, 525600, AT(session_idle_ms)},
    {"session_max_hours", 3600000, 8760, AT(session_max_ms)},
    {"session_idle_seconds", 1000, 31536000, AT(session_idle_ms)},
    {"session_max_seconds", 1000, 31536000, AT(session_max_ms)},
    {"login_max_failures", 0, 1000000, AT(max_failures_account)},
    {"login_max_failures_address", 0, 1000000, AT(max_failures_addr)},
    {"login_window_minutes", 60000, 525600, AT(window_ms)},
};
#undef AT

static void setting_error(settings_read *r, int line, const char *what)
{
    if (!r->failed)
        snprintf(r->err, r->errlen, "amparo.conf line %d: %s", line, what);
    r->failed = true;
}

static void read_setting(void *arg, int line, const char *key, const char *v)
{
    settings_read *r = arg;
    accounts_settings *s = r->s;
    char msg[200];
    for (size_t i = 0; i < sizeof numeric_settings / sizeof *numeric_settings; i++) {
        const numeric_setting *ns = &numeric_settings[i];
        if (strcmp(key, ns->key) != 0)
            continue;
        char *end = NULL;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno || end == v || *end || n < 1 || n > ns->max) {
            snprintf(msg, sizeof msg, "%s must be a whole number from 1 to %lld, not '%.40s'",
                     ns->key, ns->max, v);
            setting_error(r, line, msg);
            return;
        }
        char *field = (char *)s + ns->offset;
        if (ns->scale) {
            int64_t ms = n * ns->scale;
            memcpy(field, &ms, sizeof ms);
        } else {
            int count = (int)n;
            memcpy(field, &count, sizeof count);
        }
        return;
    }
    if (strcmp(key, "pwhash") == 0) {
        if (strcmp(v, "min") == 0)
            s->pwhash = PWHASH_MIN;
        else if (strcmp(v, "moderate") == 0)
            s->pwhash = PWHASH_MODERATE;
        else if (strcmp(v, "interactive") == 0)
            s->pwhash = PWHASH_INTERACTIVE;
        else {
            snprintf(msg, sizeof msg, "pwhash must be interactive, moderate or min, not '%.40s'",
                     v);
            setting_error(r, line, msg);
        }
    } else if (strcmp(key, "mfa_required_roles") == 0) {
        const char *bad = NULL;
        uint32_t m = authz_roles_parse(v, &bad);
        if (!m && *v) {
            snprintf(msg, sizeof msg, "unknown role '%s' in mfa_required_roles", bad ? bad : v);
            setting_error(r, line, msg);
            return;
        }
        s->mfa_required_roles = m;
    }
}

int accounts_settings_load_key(accounts_settings *s, const char *data_dir,
                               const unsigned char *index_key, char *err, size_t errlen)
{
    accounts_settings_default(s);
    settings_read r = {.s = s, .err = err, .errlen = errlen};
    conf_each(data_dir, read_setting, &r);
    if (r.failed)
        return -1;
    char path[4200];
    if (index_key) {
        crypto_kdf_derive_from_key(s->secret_key, sizeof s->secret_key, 1, "amp-totp", index_key);
        return 0;
    }
    snprintf(path, sizeof path, "%s/keys", data_dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/keys/index.key", data_dir);
    uint8_t ikm[32];
    if (key_file(path, ikm, err, errlen) < 0)
        return -1;
    /* the TOTP sealing key is derived from the (never rotated) index key */
    crypto_kdf_derive_from_key(s->secret_key, sizeof s->secret_key, 1, "amp-totp", ikm);
    sodium_memzero(ikm, sizeof ikm);
    return 0;
}

static void pwhash_params(pwhash_level level, unsigned long long *ops, size_t *mem)
{
    switch (level) {
    case PWHASH_MIN:
        *ops = crypto_pwhash_OPSLIMIT_MIN;
        *mem = crypto_pwhash_MEMLIMIT_MIN;
        break;
    case PWHASH_MODERATE:
        *ops = crypto_pwhash_OPSLIMIT_MODERATE;
        *mem = crypto_pwhash_MEMLIMIT_MODERATE;
        break;
    default: *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE; *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    }
}

int accounts_hash_password(const accounts *a, const char *password, char out[160])
{
    unsigned long long ops;
    size_t mem;
    pwhash_params(a->set.pwhash, &ops, &mem);
    char h[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(h, password, strlen(password), ops, mem,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return -1;
    snprintf(out, 160, "%s", h);
    return 0;
}

accounts *accounts_new(core *c, const accounts_settings *settings)
{
    accounts *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->c = c;
    a->s = core_store(c);
    a->set = *settings;
    if (a->set.login_concurrency < 1)
        a->set.login_concurrency = 1;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->login_mu, NULL);
    char junk[24];
    accounts_generate_password(junk);
    if (accounts_hash_password(a, junk, a->dummy_hash) != 0) {
        accounts_free(a);
        return NULL;
    }
    return a;
}

void accounts_free(accounts *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->login_mu);
    sodium_memzero(a, sizeof *a);
    free(a);
}

core *accounts_core(accounts *a)
{
    return a->c;
}

void login_result_release(login_result *r)
{
    json_decref(r->user);
    sodium_memzero(r, sizeof *r);
}

/* ==== small helpers ================================================================ */

static void token_new(char out[64])
{
    uint8_t raw[32]; /* 256 bits */
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, 64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

static void token_hash(const char *token, char out[72])
{
    uint8_t h[32];
    crypto_generichash(h, sizeof h, (const uint8_t *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, 72, h, sizeof h);
}

void accounts_generate_password(char out[24])
{
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (int i = 0; i < 20; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[20] = '\0';
}

static json_t *roles_json(uint32_t roles)
{
    json_t *arr = json_array();
    for (int i = 0; i < ROLE_COUNT; i++) {
        if (roles & (1u << i))
            json_array_append_new(arr, json_string(authz_role_name(i)));
    }
    return arr;
}

/* Parses a JSON array of role names; 0 with a field error when invalid. */
static uint32_t roles_from_json(const json_t *arr, amp_err *err, bool *ok)
{
    *ok = false;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > ROLE_COUNT) {
        amp_err_field(err, "roles", "type", "roles must be a non-empty array of role names");
        return 0;
    }
    uint32_t mask = 0;
    size_t i;
    json_t *v;
    json_array_foreach ((json_t *)arr, i, v) {
        uint32_t m = json_is_string(v) ? authz_roles_parse(json_string_value(v), NULL) : 0;
        if (!m || (m & (m - 1))) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "unknown role; roles are sysadmin, orgadmin, coordinator, "
                     "caseworker, hotline, shelter, analyst, auditor");
            amp_err_field(err, "roles", "picklist", msg);
            return 0;
        }
        mask |= m;
    }
    *ok = true;
    return mask;
}

static json_t *user_json(const store_user *u)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:s, s:b, s:b, s:I, s:s, s:s}", "username", u->username,
                     "org", u->org, "roles", roles_json(u->roles), "lang", u->lang, "display_name",
                     u->display_name, "disabled", u->disabled, "mfa_enrolled", u->totp_enabled,
                     "version", (json_int_t)u->version, "created_at", u->created_at, "updated_at",
                     u->updated_at);
}

static bool valid_username(const char *u)
{
    size_t n = strlen(u);
    if (n < 2 || n > 63)
        return false;
    for (const char *p = u; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-' && *p != '@')
            return false;
    }
    return true;
}

amp_code accounts_password_ok(const char *username, const char *password, amp_err *err)
{
    size_t n = password ? strlen(password) : 0;
    const char *why = NULL;
    if (n < 12)
        why = "a password needs at least 12 characters";
    else if (n > 1024)
        why = "a password may not be longer than 1024 bytes";
    else if (username && strcasecmp(username, password) == 0)
        why = "the password may not be the user name";
    if (!why) {
        char copy[1025];
        utf8_sanitize(password, copy, sizeof copy); /* changes only invalid UTF-8 */
        if (strcmp(copy, password) != 0)
            why = "the password is not valid UTF-8";
    }
    if (!why)
        return AMP_OK;
    amp_err_field(err, "password", "password_policy", why);
    return amp_err_set(err, AMP_EINVALID, "%s", why);
}

/* ==== store jobs ===================================================================== */

typedef struct {
    accounts *a;
    const principal *p;
    store_user *user;
    int64_t expected;
    store_session *sess;
    const char *delete_hash;
    int64_t delete_user;
    const char *delete_kind;
    bool delete_all_of_user;
    const char *action, *object_type, *object_id;
    json_t *detail;
} acct_job;

static int job_write(store_tx *tx, void *arg)
{
    acct_job *j = arg;
    int rc = STORE_OK;
    if (j->user)
        rc = store_tx_user_put(tx, j->user, j->expected);
    if (rc == STORE_OK && j->delete_all_of_user)
        rc = store_tx_session_delete(tx, NULL, j->delete_user, j->delete_kind);
    if (rc == STORE_OK && j->delete_hash) {
        rc = store_tx_session_delete(tx, j->delete_hash, 0, NULL);
        if (rc == STORE_NOTFOUND)
            rc = STORE_OK;
    }
    if (rc == STORE_OK && j->sess)
        rc = store_tx_session_put(tx, j->sess);
    if (rc == STORE_OK && j->action)
        rc = audit_tx(tx, j->p, j->action, j->object_type, j->object_id, j->detail);
    return rc;
}

static amp_code run_write(acct_job *j, amp_err *err)
{
    int rc = store_run(j->a->s, job_write, j);
    json_decref(j->detail);
    j->detail = NULL;
    switch (rc) {
    case STORE_OK: return AMP_OK;
    case STORE_EXISTS: return amp_err_set(err, AMP_ECONFLICT, "that user name is taken");
    case STORE_CONFLICT:
        return amp_err_set(err, AMP_ECONFLICT, "the user was changed meanwhile; try again");
    case STORE_NOTFOUND: return amp_err_set(err, AMP_ENOTFOUND, "not found");
    default: return amp_err_set(err, AMP_EINTERNAL, "cannot save the account");
    }
}

/* Drops every cached session of a user (after disable, reset or role change). */
static void cache_forget_user(accounts *a, const char *username)
{
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (a->cache[i].used && strcasecmp(a->cache[i].username, username) == 0)
            a->cache[i].used = false;
    }
    pthread_mutex_unlock(&a->mu);
}

static void cache_forget(accounts *a, const char *hash)
{
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (a->cache[i].used && strcmp(a->cache[i].token_hash, hash) == 0)
            a->cache[i].used = false;
    }
    pthread_mutex_unlock(&a->mu);
}

/* ==== throttling ======================================================================= */

static throttle_slot *throttle_find(accounts *a, const char *key, bool create, int64_t now)
{
    uint8_t h[8];
    crypto_generichash(h, sizeof h, (const uint8_t *)key, strlen(key), NULL, 0);
    uint64_t idx;
    memcpy(&idx, h, sizeof idx);
    throttle_slot *oldest = NULL;
    for (int probe = 0; probe < 8; probe++) {
        throttle_slot *t = &a->throttle[(idx + (uint64_t)probe) % THROTTLE_SLOTS];
        if (t->key[0] && strcmp(t->key, key) == 0) {
            if (now - t->window_start_ms > a->set.window_ms && now >= t->locked_until_ms) {
                t->failures = 0;
                t->window_start_ms = now;
            }
            return t;
        }
        if (!oldest || !t->key[0] ||
            (oldest->key[0] && t->window_start_ms < oldest->window_start_ms))
            oldest = t;
    }
    if (!create)
        return NULL;
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->key, sizeof oldest->key, "%s", key);
    oldest->window_start_ms = now;
    return oldest;
}

/* Seconds the caller must wait before trying this account or address, or 0. */
static int throttle_wait(accounts *a, const char *ukey, const char *akey, int64_t now)
{
    int wait = 0;
    pthread_mutex_lock(&a->mu);
    const char *keys[2] = {ukey, akey};
    for (int i = 0; i < 2; i++) {
        throttle_slot *t = throttle_find(a, keys[i], false, now);
        if (t && t->locked_until_ms > now) {
            int w = (int)((t->locked_until_ms - now + 999) / 1000);
            if (w > wait)
                wait = w;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return wait;
}

static void throttle_fail(accounts *a, const char *ukey, const char *akey, int64_t now)
{
    pthread_mutex_lock(&a->mu);
    const char *keys[2] = {ukey, akey};
    int limits[2] = {a->set.max_failures_account, a->set.max_failures_addr};
    for (int i = 0; i < 2; i++) {
        throttle_slot *t = throttle_find(a, keys[i], true, now);
        t->failures++;
        if (t->failures >= limits[i]) {
            /* 30 s for the first lock-out, doubling with each further failure, at most
             * the window */
            int extra = t->failures - limits[i];
            int64_t lock = 30000LL << (extra > 5 ? 5 : extra);
            if (lock > a->set.window_ms)
                lock = a->set.window_ms;
            t->locked_until_ms = now + lock;
        }
    }
    pthread_mutex_unlock(&a->mu);
}

static void throttle_success(accounts *a, const char *ukey, int64_t now)
{
    pthread_mutex_lock(&a->mu);
    throttle_slot *t = throttle_find(a, ukey, false, now);
    if (t)
        memset(t, 0, sizeof *t);
    pthread_mutex_unlock(&a->mu);
}

/* ==== TOTP ================================================================================ */

/* Seals or opens the TOTP secret (raw bytes) as base64 text. */
static int totp_seal(const accounts *a, const char *username, const uint8_t *secret, size_t n,
                     char out[200])
{
    uint8_t buf[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + 64 +
                crypto_aead_xchacha20poly1305_ietf_ABYTES];
    if (n > 64)
        return -1;
    uint8_t *nonce = buf, *ct = buf + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    unsigned long long clen;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, secret, n, (const uint8_t *)username,
                                               strlen(username), NULL, nonce, a->set.secret_key);
    sodium_bin2base64(out, 200, buf, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + clen,
                      sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

static int totp_open(const accounts *a, const char *username, const char *sealed, uint8_t out[64],
                     size_t *n)
{
    uint8_t buf[200];
    size_t len;
    if (sodium_base642bin(buf, sizeof buf, sealed, strlen(sealed), NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                  crypto_aead_xchacha20poly1305_ietf_ABYTES)
        return -1;
    unsigned long long mlen;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            out, &mlen, NULL, buf + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
            len - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, (const uint8_t *)username,
            strlen(username), buf, a->set.secret_key) != 0)
        return -1;
    *n = (size_t)mlen;
    return 0;
}

static bool totp_valid(const accounts *a, const store_user *u, const char *code)
{
    if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6)
        return false;
    uint8_t secret[64];
    size_t n;
    if (totp_open(a, u->username, u->totp_secret, secret, &n) != 0)
        return false;
    int rc = oath_totp_validate((const char *)secret, n, (time_t)(clock_ms() / 1000), TOTP_STEP, 0,
                                TOTP_WINDOW, code);
    sodium_memzero(secret, sizeof secret);
    return rc >= 0;
}

/* ==== login ================================================================================= */

static bool login_slot_take(accounts *a)
{
    pthread_mutex_lock(&a->login_mu);
    bool ok = a->logins_running < a->set.login_concurrency;
    if (ok)
        a->logins_running++;
    pthread_mutex_unlock(&a->login_mu);
    return ok;
}

static void login_slot_give(accounts *a)
{
    pthread_mutex_lock(&a->login_mu);
    a->logins_running--;
    pthread_mutex_unlock(&a->login_mu);
}

static void audit_login_failure(accounts *a, const char *username, const char *addr,
                                const char *why)
{
    principal who = {0};
    snprintf(who.actor, sizeof who.actor, "%s", username);
    snprintf(who.addr, sizeof who.addr, "%s", addr ? addr : "");
    amp_err e = {0};
    json_t *d = json_pack("{s:s}", "reason", why);
    audit_log(a->c, &who, "login.failure", "user", username, d, &e);
    json_decref(d);
    amp_err_clear(&e);
}

/* Must this user sign in with a second factor?  By role (amparo.conf
 * mfa_required_roles) or by organisation (amp_OrgRequireMFA). */
static bool mfa_required(accounts *a, const store_user *u)
{
    if (u->roles & a->set.mfa_required_roles)
        return true;
    if (!u->org[0])
        return false;
    store_row org;
    if (store_org_get(a->s, u->org, &org) != STORE_OK)
        return false;
    bool req = json_is_true(json_object_get(org.doc, "amp_OrgRequireMFA"));
    store_row_release(&org);
    return req;
}

static amp_code unauthenticated(amp_err *err, const char *name, const char *msg)
{
    snprintf(err->name, sizeof err->name, "%s", name);
    return amp_err_set(err, AMP_EUNAUTH, "%s", msg);
}

amp_code accounts_login(accounts *a, const char *username, const char *password, const char *totp,
                        const char *addr, const char *lang, login_result *out, amp_err *err)
{
    memset(out, 0, sizeof *out);
    if (!username || !password || !*username || strlen(username) > 63 || strlen(password) > 1024)
        return unauthenticated(err, "invalid_credentials", "wrong user name or password");
    int64_t now = clock_ms();
    char ukey[80], akey[80];
    snprintf(ukey, sizeof ukey, "u:%s", username);
    for (char *p = ukey; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    snprintf(akey, sizeof akey, "a:%s", addr ? addr : "");
    int wait = throttle_wait(a, ukey, akey, now);
    if (wait > 0) {
        err->retry_after = wait;
        audit_login_failure(a, username, addr, "throttled");
        return amp_err_set(err, AMP_ETHROTTLED, "too many failed logins; try again in %d s", wait);
    }
    if (!login_slot_take(a)) {
        err->retry_after = 1;
        return amp_err_set(err, AMP_ETHROTTLED, "the server is busy with other logins; try again");
    }
    store_user u;
    int rc = store_user_get(a->s, username, 0, &u);
    bool known = rc == STORE_OK;
    /* the same work for an unknown user as for a known one */
    bool pw_ok = crypto_pwhash_str_verify(known ? u.pw_hash : a->dummy_hash, password,
                                          strlen(password)) == 0 &&
                 known;
    login_slot_give(a);
    if (rc == STORE_ERROR)
        return amp_err_set(err, AMP_EINTERNAL, "cannot read accounts");
    if (!pw_ok || u.disabled) {
        throttle_fail(a, ukey, akey, now);
        audit_login_failure(a, username, addr,
                            !known       ? "unknown_user"
                            : u.disabled ? "disabled"
                                         : "wrong_password");
        return unauthenticated(err, "invalid_credentials", "wrong user name or password");
    }
    if (u.totp_enabled) {
        if (!totp || !*totp)
            return unauthenticated(err, "totp_required",
                                   "enter the code from your authenticator app");
        if (!totp_valid(a, &u, totp)) {
            throttle_fail(a, ukey, akey, now);
            audit_login_failure(a, username, addr, "wrong_totp");
            return unauthenticated(err, "totp_invalid", "the code is wrong or has expired");
        }
    }
    throttle_success(a, ukey, now);
    /* rehash when the configured parameters changed */
    unsigned long long ops;
    size_t mem;
    pwhash_params(a->set.pwhash, &ops, &mem);
    bool rehash = crypto_pwhash_str_needs_rehash(u.pw_hash, ops, mem) != 0;

    store_session ss = {0};
    token_new(out->token);
    token_hash(out->token, ss.token_hash);
    token_new(out->csrf);
    ss.user_id = u.id;
    snprintf(ss.kind, sizeof ss.kind, "session");
    ss.roles = u.roles;
    snprintf(ss.csrf, sizeof ss.csrf, "%s", out->csrf);
    ss.created_ms = ss.last_seen_ms = now;
    ss.expires_ms = now + a->set.session_max_ms;
    ss.idle_ms = a->set.session_idle_ms;
    snprintf(ss.addr, sizeof ss.addr, "%s", addr ? addr : "");
    ss.mfa_pending = mfa_required(a, &u) && !u.totp_enabled;
    out->expires_ms = ss.expires_ms;
    out->mfa_enrolment_required = ss.mfa_pending;

    principal who = {0};
    snprintf(who.actor, sizeof who.actor, "%s", u.username);
    snprintf(who.org, sizeof who.org, "%s", u.org);
    snprintf(who.addr, sizeof who.addr, "%s", addr ? addr : "");
    who.user_id = u.id;
    who.roles = u.roles;
    acct_job j = {.a = a,
                  .p = &who,
                  .sess = &ss,
                  .action = "login.success",
                  .object_type = "user",
                  .object_id = u.username};
    j.detail = json_pack("{s:b}", "mfa", u.totp_enabled);
    if (rehash && accounts_hash_password(a, password, u.pw_hash) == 0) {
        clock_now(u.updated_at);
        j.user = &u;
        j.expected = u.version;
    }
    amp_code code = run_write(&j, err);
    if (code != AMP_OK) {
        sodium_memzero(out, sizeof *out);
        return code;
    }
    (void)lang;
    out->user = json_pack("{s:s, s:s, s:o, s:s, s:s, s:b}", "username", u.username, "org", u.org,
                          "roles", roles_json(u.roles), "lang", u.lang, "display_name",
                          u.display_name, "mfa_enrolled", u.totp_enabled);
    sodium_memzero(&u, sizeof u);
    return AMP_OK;
}

/* ==== authenticating requests ============================================================= */

static uint64_t slot_of(const char *hash)
{
    uint64_t v = 0;
    for (int i = 0; i < 12 && hash[i]; i++)
        v = v * 16 +
            (uint64_t)(isdigit((unsigned char)hash[i]) ? hash[i] - '0' : hash[i] - 'a' + 10);
    return v % CACHE_SLOTS;
}

static void fill_principal(principal *p, const cached_session *cs)
{
    snprintf(p->actor, sizeof p->actor, "%s", cs->username);
    snprintf(p->org, sizeof p->org, "%s", cs->org);
    p->roles = cs->user_roles & cs->sess.roles;
    p->user_id = cs->sess.user_id;
    p->internal = false;
    if (cs->lang[0])
        snprintf(p->lang, sizeof p->lang, "%s", cs->lang);
}

typedef struct {
    char hash[72];
    int64_t seen;
} touch_job;

static int job_touch(store_tx *tx, void *arg)
{
    touch_job *t = arg;
    return store_tx_session_touch(tx, t->hash, t->seen);
}

static void touch_done(void *arg, int rc)
{
    (void)rc;
    free(arg);
}

/* Writes the session's last use back to the store, later (idle timers). */
static void submit_touch(accounts *a, const char *hash, int64_t now)
{
    touch_job *t = malloc(sizeof *t);
    if (!t)
        return;
    snprintf(t->hash, sizeof t->hash, "%s", hash);
    t->seen = now;
    if (store_submit(a->s, job_touch, touch_done, t) != STORE_OK)
        free(t);
}

static void fill_auth(principal *p, auth_info *info, const cached_session *cs)
{
    fill_principal(p, cs);
    snprintf(info->kind, sizeof info->kind, "%s", cs->sess.kind);
    snprintf(info->csrf, sizeof info->csrf, "%s", cs->sess.csrf);
    info->mfa_pending = cs->sess.mfa_pending;
}

amp_code accounts_authenticate(accounts *a, const char *token, principal *p, auth_info *info,
                               char hash[72], amp_err *err)
{
    memset(info, 0, sizeof *info);
    size_t tl = token ? strlen(token) : 0;
    if (tl < 20 || tl > 100)
        return unauthenticated(err, "unauthenticated", "sign in first");
    token_hash(token, hash);
    int64_t now = clock_ms();
    uint64_t slot = slot_of(hash);
    cached_session cs;
    bool hit = false;
    pthread_mutex_lock(&a->mu);
    cached_session *c = &a->cache[slot];
    if (c->used && strcmp(c->token_hash, hash) == 0 && now - c->fetched_ms < CACHE_REVALIDATE_MS &&
        now < c->sess.expires_ms &&
        !(c->sess.idle_ms && now - c->sess.last_seen_ms > c->sess.idle_ms)) {
        /* the common case, in place: cached, checked lately, not expired */
        c->sess.last_seen_ms = now;
        bool persist = c->sess.idle_ms && now - c->persisted_seen_ms > TOUCH_PERSIST_MS;
        if (persist)
            c->persisted_seen_ms = now;
        fill_auth(p, info, c);
        pthread_mutex_unlock(&a->mu);
        if (persist)
            submit_touch(a, hash, now);
        return AMP_OK;
    }
    if (c->used && strcmp(c->token_hash, hash) == 0 && now - c->fetched_ms < CACHE_REVALIDATE_MS) {
        hit = true;
        if (c->sess.idle_ms && now - c->sess.last_seen_ms > c->sess.idle_ms)
            hit = false;
        else
            c->sess.last_seen_ms = now;
        cs = *c;
    }
    pthread_mutex_unlock(&a->mu);
    if (!hit) {
        memset(&cs, 0, sizeof cs);
        int rc = store_session_get(a->s, hash, &cs.sess);
        if (rc == STORE_ERROR)
            return amp_err_set(err, AMP_EINTERNAL, "cannot read sessions");
        if (rc != STORE_OK)
            return unauthenticated(err, "unauthenticated", "sign in first");
        /* a cached copy may know a later use than the store */
        pthread_mutex_lock(&a->mu);
        if (c->used && strcmp(c->token_hash, hash) == 0 &&
            c->sess.last_seen_ms > cs.sess.last_seen_ms)
            cs.sess.last_seen_ms = c->sess.last_seen_ms;
        pthread_mutex_unlock(&a->mu);
        store_user u;
        if (store_user_get(a->s, NULL, cs.sess.user_id, &u) != STORE_OK)
            return unauthenticated(err, "unauthenticated", "sign in first");
        if (u.disabled)
            return unauthenticated(err, "unauthenticated", "this account is disabled");
        snprintf(cs.username, sizeof cs.username, "%s", u.username);
        snprintf(cs.org, sizeof cs.org, "%s", u.org);
        snprintf(cs.lang, sizeof cs.lang, "%s", u.lang);
        cs.user_roles = u.roles;
        cs.fetched_ms = now;
        cs.persisted_seen_ms = cs.sess.last_seen_ms;
        cs.used = true;
        snprintf(cs.token_hash, sizeof cs.token_hash, "%s", hash);
        sodium_memzero(&u, sizeof u);
    }
    if (now >= cs.sess.expires_ms)
        return unauthenticated(err, "session_expired", "the session has expired; sign in again");
    if (cs.sess.idle_ms && now - cs.sess.last_seen_ms > cs.sess.idle_ms)
        return unauthenticated(err, "session_expired",
                               "the session expired after inactivity; sign in again");
    cs.sess.last_seen_ms = now;
    bool persist = cs.sess.idle_ms && now - cs.persisted_seen_ms > TOUCH_PERSIST_MS;
    if (persist)
        cs.persisted_seen_ms = now;
    pthread_mutex_lock(&a->mu);
    a->cache[slot] = cs;
    pthread_mutex_unlock(&a->mu);
    if (persist)
        submit_touch(a, hash, now);
    fill_auth(p, info, &cs);
    return AMP_OK;
}

amp_code accounts_logout(accounts *a, const principal *p, const char *hash, amp_err *err)
{
    cache_forget(a, hash);
    acct_job j = {.a = a,
                  .p = p,
                  .delete_hash = hash,
                  .action = "logout",
                  .object_type = "user",
                  .object_id = p->actor};
    return run_write(&j, err);
}

/* ==== the signed-in user ==================================================================== */

static amp_code load_user(accounts *a, const char *username, int64_t id, store_user *u,
                          amp_err *err)
{
    int rc = store_user_get(a->s, username, id, u);
    if (rc == STORE_OK)
        return AMP_OK;
    if (rc == STORE_NOTFOUND)
        return amp_err_set(err, AMP_ENOTFOUND, "no user '%s'", username ? username : "");
    return amp_err_set(err, AMP_EINTERNAL, "cannot read accounts");
}

amp_code accounts_me(accounts *a, const principal *p, json_t **out, amp_err *err)
{
    store_user u;
    amp_code code = load_user(a, NULL, p->user_id, &u, err);
    if (code != AMP_OK)
        return code;
    json_t *perms = json_object();
    for (int r = 0; r < RES_COUNT; r++) {
        json_t *acts = json_array();
        for (int act = 0; act < ACT_COUNT; act++) {
            if (authz_allows(p, (authz_action)act, (authz_resource)r))
                json_array_append_new(acts, json_string(authz_action_name((authz_action)act)));
        }
        if (json_array_size(acts))
            json_object_set_new(perms, authz_resource_name((authz_resource)r), acts);
        else
            json_decref(acts);
    }
    json_t *user = user_json(&u);
    json_object_set_new(user, "roles", roles_json(p->roles)); /* as scoped by the token */
    json_object_set_new(user, "mfa_required", json_boolean(mfa_required(a, &u)));
    *out = json_pack("{s:o, s:o}", "user", user, "permissions", perms);
    sodium_memzero(&u, sizeof u);
    return AMP_OK;
}

static bool lang_ok(const char *l)
{
    return l && (strcmp(l, "en") == 0 || strcmp(l, "es") == 0 || strcmp(l, "fr") == 0 ||
                 strcmp(l, "uk") == 0);
}

/* Checks that body has only the keys listed. */
static bool only_keys(const json_t *body, const char *const *allowed, amp_err *err)
{
    const char *key;
    json_t *v;
    bool ok = true;
    json_object_foreach ((json_t *)body, key, v) {
        bool found = false;
        for (const char *const *k = allowed; *k; k++)
            found |= strcmp(*k, key) == 0;
        if (!found) {
            char safe[80];
            utf8_sanitize(key, safe, sizeof safe);
            amp_err_field(err, safe, "unknown_field", "this field is not accepted here");
            ok = false;
        }
    }
    return ok;
}

amp_code accounts_me_update(accounts *a, const principal *p, const json_t *body, json_t **out,
                            amp_err *err)
{
    static const char *const allowed[] = {"lang", "display_name", "password", NULL};
    if (!json_is_object(body))
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    if (!only_keys(body, allowed, err))
        return amp_err_set(err, AMP_EINVALID, "unknown fields");
    store_user u;
    amp_code code = load_user(a, NULL, p->user_id, &u, err);
    if (code != AMP_OK)
        return code;
    const json_t *lang = json_object_get(body, "lang");
    const json_t *dn = json_object_get(body, "display_name");
    const json_t *pw = json_object_get(body, "password");
    if (lang && !lang_ok(json_string_value(lang)))
        amp_err_field(err, "lang", "picklist", "lang must be one of en, es, fr, uk");
    if (dn && (!json_is_string(dn) || strlen(json_string_value(dn)) > 127))
        amp_err_field(err, "display_name", "max_length", "at most 127 bytes of text");
    bool pw_change = false;
    if (pw) {
        const char *cur = json_string_value(json_object_get(pw, "current"));
        const char *nw = json_string_value(json_object_get(pw, "new"));
        if (!json_is_object(pw) || !cur || !nw)
            amp_err_field(err, "password", "type", "give {\"current\": …, \"new\": …}");
        else if (crypto_pwhash_str_verify(u.pw_hash, cur, strlen(cur)) != 0)
            amp_err_field(err, "password.current", "wrong_password",
                          "the current password is wrong");
        else if (accounts_password_ok(u.username, nw, err) == AMP_OK)
            pw_change = accounts_hash_password(a, nw, u.pw_hash) == 0;
    }
    if (err->fields) {
        sodium_memzero(&u, sizeof u);
        return amp_err_set(err, AMP_EINVALID, "the changes were refused");
    }
    if (lang)
        snprintf(u.lang, sizeof u.lang, "%s", json_string_value(lang));
    if (dn)
        snprintf(u.display_name, sizeof u.display_name, "%s", json_string_value(dn));
    clock_now(u.updated_at);
    if (pw_change)
        snprintf(u.password_changed_at, sizeof u.password_changed_at, "%s", u.updated_at);
    acct_job j = {.a = a,
                  .p = p,
                  .user = &u,
                  .expected = u.version,
                  .action = "user.update_self",
                  .object_type = "user",
                  .object_id = u.username};
    j.detail = json_pack("{s:b, s:b, s:b}", "lang", lang != NULL, "display_name", dn != NULL,
                         "password", pw_change);
    code = run_write(&j, err);
    if (code == AMP_OK) {
        cache_forget_user(a, u.username);
        *out = user_json(&u);
    }
    sodium_memzero(&u, sizeof u);
    return code;
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static void base32(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits)
        out[o++] = b32[(acc << (5 - bits)) & 31];
    out[o] = '\0';
}

/* An SVG rendering of a QR code for text (malloc'd), or NULL. */
static char *qr_svg(const char *text)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q)
        return NULL;
    int w = q->width, border = 4, size = w + 2 * border;
    size_t cap = 256 + (size_t)w * (size_t)w * 40;
    char *svg = malloc(cap);
    if (!svg) {
        QRcode_free(q);
        return NULL;
    }
    size_t o = (size_t)snprintf(svg, cap,
                                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                                "shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR "
                                "code\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path "
                                "fill=\"#000\" d=\"",
                                size, size, size, size);
    for (int y = 0; y < w; y++) {
        for (int x = 0; x < w; x++) {
            if (q->data[y * w + x] & 1)
                o += (size_t)snprintf(svg + o, cap - o, "M%d %dh1v1h-1z", x + border, y + border);
        }
    }
    snprintf(svg + o, cap - o, "\"/></svg>");
    QRcode_free(q);
    return svg;
}

amp_code accounts_totp_begin(accounts *a, const principal *p, json_t **out, amp_err *err)
{
    store_user u;
    amp_code code = load_user(a, NULL, p->user_id, &u, err);
    if (code != AMP_OK)
        return code;
    if (u.totp_enabled) {
        sodium_memzero(&u, sizeof u);
        return amp_err_set(err, AMP_ESTATE,
                           "a second factor is already enrolled; an administrator can reset it");
    }
    uint8_t secret[20];
    randombytes_buf(secret, sizeof secret);
    char enc[40];
    base32(secret, sizeof secret, enc);
    totp_seal(a, u.username, secret, sizeof secret, u.totp_secret);
    sodium_memzero(secret, sizeof secret);
    clock_now(u.updated_at);
    acct_job j = {.a = a,
                  .p = p,
                  .user = &u,
                  .expected = u.version,
                  .action = "totp.begin",
                  .object_type = "user",
                  .object_id = u.username};
    code = run_write(&j, err);
    if (code == AMP_OK) {
        char uri[300];
        snprintf(uri, sizeof uri,
                 "otpauth://totp/Amparo:%s?secret=%s&issuer=Amparo&algorithm=SHA1&digits=6&"
                 "period=%d",
                 u.username, enc, TOTP_STEP);
        char *svg = qr_svg(uri);
        *out = json_pack("{s:s, s:s, s:s?}", "secret", enc, "otpauth_uri", uri, "qr_svg", svg);
        free(svg);
    }
    sodium_memzero(enc, sizeof enc);
    sodium_memzero(&u, sizeof u);
    return code;
}

amp_code accounts_totp_confirm(accounts *a, const principal *p, const char *code_text, amp_err *err)
{
    store_user u;
    amp_code code = load_user(a, NULL, p->user_id, &u, err);
    if (code != AMP_OK)
        return code;
    if (u.totp_enabled || !u.totp_secret[0]) {
        sodium_memzero(&u, sizeof u);
        return amp_err_set(err, AMP_ESTATE,
                           u.totp_enabled ? "already enrolled" : "start the enrolment first");
    }
    if (!totp_valid(a, &u, code_text)) {
        sodium_memzero(&u, sizeof u);
        amp_err_field(err, "code", "totp_invalid", "the code is wrong or has expired");
        return amp_err_set(err, AMP_EINVALID, "the code is wrong or has expired");
    }
    u.totp_enabled = true;
    clock_now(u.updated_at);
    acct_job j = {.a = a,
                  .p = p,
                  .user = &u,
                  .expected = u.version,
                  .action = "totp.enrol",
                  .object_type = "user",
                  .object_id = u.username};
    code = run_write(&j, err);
    if (code == AMP_OK) {
        /* the pending restriction of the current sessions is lifted by signing in again */
        cache_forget_user(a, u.username);
    }
    sodium_memzero(&u, sizeof u);
    return code;
}

/* ==== administration ===========================================================================
 */

/* May p administer users of org, granting roles?  AMP_OK or a refusal. */
static amp_code admin_scope(const principal *p, const char *org, uint32_t roles, amp_err *err)
{
    amp_code code = authz_require(p, ACT_ADMIN, RES_USER, err);
    if (code != AMP_OK)
        return code;
    if (p->internal || (p->roles & ROLE_SYSADMIN))
        return AMP_OK;
    if (!org || strcmp(org, p->org) != 0)
        return amp_err_set(err, AMP_EFORBIDDEN,
                           "organisation admins manage the users of their own organisation only");
    if (roles & ROLE_SYSADMIN)
        return amp_err_set(err, AMP_EFORBIDDEN, "only a system admin can grant 'sysadmin'");
    return AMP_OK;
}

static amp_code check_org(accounts *a, const char *org, amp_err *err)
{
    if (!org || !*org)
        return AMP_OK;
    store_row r;
    int rc = store_org_get(a->s, org, &r);
    if (rc == STORE_OK) {
        store_row_release(&r);
        return AMP_OK;
    }
    amp_err_field(err, "org", "lookup", "no such organisation");
    return AMP_EINVALID;
}

amp_code accounts_user_create(accounts *a, const principal *p, const json_t *body, json_t **out,
                              amp_err *err)
{
    static const char *const allowed[] = {"username", "org",          "roles", "password",
                                          "lang",     "display_name", NULL};
    if (!json_is_object(body))
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    bool ok = only_keys(body, allowed, err);
    const char *username = json_string_value(json_object_get(body, "username"));
    const char *org = json_string_value(json_object_get(body, "org"));
    const char *password = json_string_value(json_object_get(body, "password"));
    const char *lang = json_string_value(json_object_get(body, "lang"));
    const char *dn = json_string_value(json_object_get(body, "display_name"));
    if (!username || !valid_username(username)) {
        amp_err_field(err, "username", "format",
                      "2–63 characters: letters, digits, '.', '_', '-' or '@'");
        ok = false;
    }
    if (json_object_get(body, "org") && !org) {
        amp_err_field(err, "org", "type", "an organisation id");
        ok = false;
    }
    bool roles_ok;
    uint32_t roles = roles_from_json(json_object_get(body, "roles"), err, &roles_ok);
    ok &= roles_ok;
    if (json_object_get(body, "lang") && !lang_ok(lang)) {
        amp_err_field(err, "lang", "picklist", "lang must be one of en, es, fr, uk");
        ok = false;
    }
    if (json_object_get(body, "display_name") && (!dn || strlen(dn) > 127)) {
        amp_err_field(err, "display_name", "max_length", "at most 127 bytes of text");
        ok = false;
    }
    if (roles_ok && !(roles & ROLE_SYSADMIN) && (!org || !*org)) {
        amp_err_field(err, "org", "required",
                      "every user but a system admin belongs to an "
                      "organisation");
        ok = false;
    }
    if (ok && check_org(a, org, err) != AMP_OK)
        ok = false;
    if (json_object_get(body, "password") &&
        (!password || accounts_password_ok(username, password, err) != AMP_OK))
        ok = false;
    if (!ok) {
        if (err->code == AMP_OK || err->code == AMP_EINVALID)
            return amp_err_set(err, AMP_EINVALID, "the user was not created");
        return err->code;
    }
    amp_code code = admin_scope(p, org, roles, err);
    if (code != AMP_OK)
        return code;
    char generated[24] = "";
    if (!password) {
        accounts_generate_password(generated);
        password = generated;
    }
    store_user u = {0};
    snprintf(u.username, sizeof u.username, "%s", username);
    snprintf(u.org, sizeof u.org, "%s", org ? org : "");
    u.roles = roles;
    snprintf(u.lang, sizeof u.lang, "%s", lang ? lang : "en");
    snprintf(u.display_name, sizeof u.display_name, "%s", dn ? dn : "");
    clock_now(u.created_at);
    snprintf(u.updated_at, sizeof u.updated_at, "%s", u.created_at);
    snprintf(u.password_changed_at, sizeof u.password_changed_at, "%s", u.created_at);
    if (accounts_hash_password(a, password, u.pw_hash) != 0)
        return amp_err_set(err, AMP_EINTERNAL, "cannot hash the password");
    acct_job j = {.a = a,
                  .p = p,
                  .user = &u,
                  .expected = 0,
                  .action = "user.create",
                  .object_type = "user",
                  .object_id = u.username};
    j.detail = json_pack("{s:s, s:o}", "org", u.org, "roles", roles_json(roles));
    code = run_write(&j, err);
    if (code == AMP_OK) {
        *out = user_json(&u);
        if (generated[0])
            json_object_set_new(*out, "password", json_string(generated));
    } else if (code == AMP_ECONFLICT) {
        amp_err_field(err, "username", "unique", "that user name is taken");
    }
    sodium_memzero(generated, sizeof generated);
    sodium_memzero(&u, sizeof u);
    return code;
}

static amp_code load_for_admin(accounts *a, const principal *p, const char *username, store_user *u,
                               amp_err *err)
{
    if (!valid_username(username))
        return amp_err_set(err, AMP_ENOTFOUND, "no such user");
    amp_code code = load_user(a, username, 0, u, err);
    if (code != AMP_OK)
        return code;
    code = admin_scope(p, u->org, u->roles, err);
    if (code == AMP_EFORBIDDEN && !(p->roles & ROLE_SYSADMIN) && strcmp(u->org, p->org) != 0) {
        /* do not confirm that users of other organisations exist */
        amp_err_clear(err);
        code = amp_err_set(err, AMP_ENOTFOUND, "no such user");
    }
    if (code != AMP_OK)
        sodium_memzero(u, sizeof *u);
    return code;
}

amp_code accounts_user_get(accounts *a, const principal *p, const char *username, json_t **out,
                           amp_err *err)
{
    store_user u;
    amp_code code = load_for_admin(a, p, username, &u, err);
    if (code == AMP_OK)
        *out = user_json(&u);
    sodium_memzero(&u, sizeof u);
    return code;
}

amp_code accounts_user_update(accounts *a, const principal *p, const char *username,
                              const json_t *patch, json_t **out, amp_err *err)
{
    static const char *const allowed[] = {"org", "roles", "lang", "display_name", "version", NULL};
    if (!json_is_object(patch))
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    if (!only_keys(patch, allowed, err))
        return amp_err_set(err, AMP_EINVALID, "unknown fields");
    store_user u;
    amp_code code = load_for_admin(a, p, username, &u, err);
    if (code != AMP_OK)
        return code;
    const json_t *ver = json_object_get(patch, "version");
    if (ver && (!json_is_integer(ver) || json_integer_value(ver) != u.version)) {
        sodium_memzero(&u, sizeof u);
        return amp_err_set(err, AMP_ECONFLICT, "the user was changed meanwhile; reload it");
    }
    uint32_t old_roles = u.roles;
    char old_org[72];
    snprintf(old_org, sizeof old_org, "%s", u.org);
    if (json_object_get(patch, "roles")) {
        bool ok;
        uint32_t r = roles_from_json(json_object_get(patch, "roles"), err, &ok);
        if (ok)
            u.roles = r;
    }
    const json_t *org = json_object_get(patch, "org");
    if (org) {
        if (!json_is_string(org))
            amp_err_field(err, "org", "type", "an organisation id");
        else if (check_org(a, json_string_value(org), err) == AMP_OK)
            snprintf(u.org, sizeof u.org, "%s", json_string_value(org));
    }
    const json_t *lang = json_object_get(patch, "lang");
    if (lang) {
        if (!lang_ok(json_string_value(lang)))
            amp_err_field(err, "lang", "picklist", "lang must be one of en, es, fr, uk");
        else
            snprintf(u.lang, sizeof u.lang, "%s", json_string_value(lang));
    }
    const json_t *dn = json_object_get(patch, "display_name");
    if (dn) {
        if (!json_is_string(dn) || strlen(json_string_value(dn)) > 127)
            amp_err_field(err, "display_name", "max_length", "at most 127 bytes of text");
        else
            snprintf(u.display_name, sizeof u.display_name, "%s", json_string_value(dn));
    }
    if (err->fields) {
        sodium_memzero(&u, sizeof u);
        return amp_err_set(err, AMP_EINVALID, "the changes were refused");
    }
    code = admin_scope(p, u.org, u.roles, err); /* also for the new org and roles */
    if (code != AMP_OK) {
        sodium_memzero(&u, sizeof u);
        return code;
    }
    clock_now(u.updated_at);
    acct_job j = {.a = a,
                  .p = p,
                  .user = &u,
                  .expected = u.version,
                  .action = "user.update",
                  .object_type = "user",
                  .object_id = u.username};
    j.detail = json_pack("{s:o, s:o, s:s, s:s}", "roles_before", roles_json(old_roles), "roles",
                         roles_json(u.roles), "org_before", old_org, "org", u.org);
    if (u.roles != old_roles || strcmp(u.org, old_org) != 0) {
        /* a permission change ends the sessions that carried the old permissions */
        j.delete_all_of_user = true;
        j.delete_user = u.id;
        j.delete_kind = "session";
    }
    code = run_write(&j, err);
    if (code == AMP_OK) {
        cache_forget_user(a, u.username);
        *out = user_json(&u);
    }
    sodium_memzero(&u, sizeof u);
    return code;
}

amp_code accounts_user_list(accounts *a, const principal *p, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_USER, err);
    if (code != AMP_OK)
        return code;
    bool all = p->internal || (p->roles & ROLE_SYSADMIN);
    store_user *rows = NULL;
    int n = 0;
    if (store_user_list(a->s, all ? NULL : p->org, &rows, &n) != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "cannot read accounts");
    json_t *items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, user_json(&rows[i]));
    sodium_memzero(rows, sizeof *rows * (size_t)n);
    free(rows);
    *out = json_pack("{s:o, s:i, s:i, s:i}", "items", items, "total", n, "limit", n, "offset", 0);
    return AMP_OK;
}

amp_code accounts_user_disable(accounts *a, const principal *p, const char *username, bool disabled,
                               amp_err *err)
{
    store_user u;
    amp_code code = load_for_admin(a, p, username, &u, err);
    if (code != AMP_OK)
        return code;
    if (!p->internal && u.id == p->user_id && disabled) {
        sodium_memzero(&u, sizeof u);
        return amp_err_set(err, AMP_ESTATE, "you cannot disable your own account");
    }
    u.disabled = disabled;
    clock_now(u.updated_at);
    acct_job j = {.a = a,
                  .p = p,
                  .user = &u,
                  .expected = u.version,
                  .action = disabled ? "user.disable" : "user.enable",
                  .object_type = "user",
                  .object_id = u.username,
                  .delete_all_of_user = disabled,
                  .delete_user = u.id};
    code = run_write(&j, err);
    if (code == AMP_OK)
        cache_forget_user(a, u.username);
    sodium_memzero(&u, sizeof u);
    return code;
}

amp_code accounts_user_reset_password(accounts *a, const principal *p, const char *username,
                                      const char *password, char **generated, amp_err *err)
{
    store_user u;
    amp_code code = load_for_admin(a, p, username, &u, err);
    if (code != AMP_OK)
        return code;
    char fresh[24] = "";
    if (!password) {
        accounts_generate_password(fresh);
        password = fresh;
    } else if (accounts_password_ok(u.username, password, err) != AMP_OK) {
        sodium_memzero(&u, sizeof u);
        return AMP_EINVALID;
    }
    if (accounts_hash_password(a, password, u.pw_hash) != 0) {
        sodium_memzero(&u, sizeof u);
        return amp_err_set(err, AMP_EINTERNAL, "cannot hash the password");
    }
    clock_now(u.updated_at);
    snprintf(u.password_changed_at, sizeof u.password_changed_at, "%s", u.updated_at);
    acct_job j = {.a = a,
                  .p = p,
                  .user = &u,
                  .expected = u.version,
                  .action = "user.reset_password",
                  .object_type = "user",
                  .object_id = u.username,
                  .delete_all_of_user = true,
                  .delete_user = u.id};
    code = run_write(&j, err);
    if (code == AMP_OK) {
        cache_forget_user(a, u.username);
        if (generated)
            *generated = fresh[0] ? strdup(fresh) : NULL;
    }
    sodium_memzero(fresh, sizeof fresh);
    sodium_memzero(&u, sizeof u);
    return code;
}

amp_code accounts_user_reset_totp(accounts *a, const principal *p, const char *username,
                                  amp_err *err)
{
    store_user u;
    amp_code code = load_for_admin(a, p, username, &u, err);
    if (code != AMP_OK)
        return code;
    u.totp_enabled = false;
    u.totp_secret[0] = '\0';
    clock_now(u.updated_at);
    acct_job j = {.a = a,
                  .p = p,
                  .user = &u,
                  .expected = u.version,
                  .action = "user.reset_totp",
                  .object_type = "user",
                  .object_id = u.username,
                  .delete_all_of_user = true,
                  .delete_user = u.id,
                  .delete_kind = "session"};
    code = run_write(&j, err);
    if (code == AMP_OK)
        cache_forget_user(a, u.username);
    sodium_memzero(&u, sizeof u);
    return code;
}

/* ==== API tokens ================================================================================
 */

static json_t *token_json(const store_session *s)
{
    char id[17];
    snprintf(id, sizeof id, "%.16s", s->token_hash);
    char exp[32] = "";
    if (s->expires_ms < INT64_MAX) {
        time_t t = (time_t)(s->expires_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    return json_pack("{s:s, s:s, s:o, s:s?}", "id", id, "name", s->name, "roles",
                     roles_json(s->roles), "expires_at", exp[0] ? exp : NULL);
}

amp_code accounts_token_create(accounts *a, const principal *p, const json_t *body, json_t **out,
                               amp_err *err)
{
    static const char *const allowed[] = {"name", "roles", "expires_days", NULL};
    if (p->internal || !p->user_id)
        return amp_err_set(err, AMP_EFORBIDDEN, "API tokens belong to a signed-in user");
    if (!json_is_object(body))
        return amp_err_set(err, AMP_EBADREQ, "the body must be a JSON object");
    bool ok = only_keys(body, allowed, err);
    const char *name = json_string_value(json_object_get(body, "name"));
    if (!name || !*name || strlen(name) > 63) {
        amp_err_field(err, "name", "required", "say what the token is for (1–63 bytes)");
        ok = false;
    }
    uint32_t roles = p->roles;
    if (json_object_get(body, "roles")) {
        bool rok;
        roles = roles_from_json(json_object_get(body, "roles"), err, &rok);
        if (rok && (roles & ~p->roles)) {
            amp_err_field(err, "roles", "scope", "a token can only carry roles you hold");
            rok = false;
        }
        ok &= rok;
    }
    const json_t *days = json_object_get(body, "expires_days");
    if (days && (!json_is_integer(days) || json_integer_value(days) < 1 ||
                 json_integer_value(days) > 366)) {
        amp_err_field(err, "expires_days", "range", "between 1 and 366 days");
        ok = false;
    }
    if (!ok)
        return amp_err_set(err, AMP_EINVALID, "the token was not created");
    char token[64];
    store_session ss = {0};
    token_new(token);
    token_hash(token, ss.token_hash);
    ss.user_id = p->user_id;
    snprintf(ss.kind, sizeof ss.kind, "api");
    snprintf(ss.name, sizeof ss.name, "%s", name);
    ss.roles = roles;
    ss.created_ms = ss.last_seen_ms = clock_ms();
    ss.expires_ms = ss.created_ms + (days ? json_integer_value(days) : 90) * 86400000LL;
    snprintf(ss.addr, sizeof ss.addr, "%s", p->addr);
    acct_job j = {.a = a,
                  .p = p,
                  .sess = &ss,
                  .action = "token.create",
                  .object_type = "token",
                  .object_id = name};
    j.detail = json_pack("{s:o}", "roles", roles_json(roles));
    amp_code code = run_write(&j, err);
    if (code == AMP_OK) {
        *out = token_json(&ss);
        json_object_set_new(*out, "token", json_string(token));
    }
    sodium_memzero(token, sizeof token);
    return code;
}

amp_code accounts_token_list(accounts *a, const principal *p, json_t **out, amp_err *err)
{
    store_session *rows = NULL;
    int n = 0;
    if (store_session_list(a->s, p->user_id, "api", &rows, &n) != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "cannot read tokens");
    json_t *items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, token_json(&rows[i]));
    free(rows);
    *out = json_pack("{s:o, s:i, s:i, s:i}", "items", items, "total", n, "limit", n, "offset", 0);
    return AMP_OK;
}

amp_code accounts_token_revoke(accounts *a, const principal *p, const char *id, amp_err *err)
{
    store_session *rows = NULL;
    int n = 0;
    if (store_session_list(a->s, p->user_id, "api", &rows, &n) != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "cannot read tokens");
    char hash[72] = "";
    for (int i = 0; i < n; i++) {
        if (strlen(id) == 16 && strncmp(rows[i].token_hash, id, 16) == 0)
            snprintf(hash, sizeof hash, "%s", rows[i].token_hash);
    }
    free(rows);
    if (!hash[0])
        return amp_err_set(err, AMP_ENOTFOUND, "no such token");
    cache_forget(a, hash);
    acct_job j = {.a = a,
                  .p = p,
                  .delete_hash = hash,
                  .action = "token.revoke",
                  .object_type = "token",
                  .object_id = id};
    return run_write(&j, err);
}

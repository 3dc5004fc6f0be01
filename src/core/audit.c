/* audit.c — the audit trail (see audit.h): building chained entries, the audit
 * key, verification, and the core's list and verify operations. */
#include "core/audit.h"

#include <pthread.h>
#include "core/core.h"
#include "core/read_journal.h"
#include "core/validate.h"
#include "util/clock.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char zero_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* ==== the key ==================================================================== */

/* Written once at start-up, before any job runs; read by the writer thread and
 * verifiers.  The flag is atomic so a late reader sees a complete key. */
static uint8_t process_key[AUDIT_KEY_BYTES];
static atomic_bool key_loaded;
/* the keyed BLAKE2b states after the key block and the tag, for entries and
 * journal lines under process_key: each hash starts from a copy */
static crypto_generichash_state entry_base, mac_base;
static const char ENTRY_TAG[] = "amparo-audit-v1";
static const char MAC_TAG[] = "amparo-journal-v1";
#define MAC_BYTES 16

static void keyed_start(crypto_generichash_state *h, const uint8_t *key, const char *tag,
                        size_t digest_len)
{
    crypto_generichash_init(h, key, AUDIT_KEY_BYTES, digest_len);
    crypto_generichash_update(h, (const unsigned char *)tag, strlen(tag));
}

void audit_set_key(const uint8_t key[AUDIT_KEY_BYTES])
{
    memcpy(process_key, key, AUDIT_KEY_BYTES);
    keyed_start(&entry_base, process_key, ENTRY_TAG, 32);
    keyed_start(&mac_base, process_key, MAC_TAG, MAC_BYTES);
    atomic_store(&key_loaded, true);
}

bool audit_key_loaded(void)
{
    return atomic_load(&key_loaded);
}

static void key_path(const char *dir, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", dir, AUDIT_KEY_FILE);
}

int audit_create_key(const char *data_dir, char *err, size_t errlen)
{
    char path[4200];
    key_path(data_dir, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return 0;
        snprintf(err, errlen, "cannot create the audit key '%s': %s", path, strerror(errno));
        return -1;
    }
    uint8_t key[AUDIT_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    ssize_t n = write(fd, key, sizeof key);
    sodium_memzero(key, sizeof key);
    int rc = n == (ssize_t)sizeof key && fsync(fd) == 0 ? 0 : -1;
    close(fd);
    if (rc == 0) { /* the new name must survive a crash too */
        int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    } else {
        snprintf(err, errlen, "cannot write the audit key '%s': %s", path, strerror(errno));
        unlink(path);
    }
    return rc;
}

int audit_read_key(const char *data_dir, uint8_t key[AUDIT_KEY_BYTES], char *err, size_t errlen)
{
    char path[4200];
    key_path(data_dir, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the audit key '%s': %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot read the audit key '%s': %s", path, strerror(errno));
    } else if (st.st_mode & 077) {
        snprintf(err, errlen,
                 "the audit key '%s' is accessible to other users (mode %03o); "
                 "run chmod 600 on it",
                 path, (unsigned)(st.st_mode & 0777));
    } else if (st.st_size != AUDIT_KEY_BYTES ||
               read(fd, key, AUDIT_KEY_BYTES) != (ssize_t)AUDIT_KEY_BYTES) {
        snprintf(err, errlen, "the audit key '%s' is not %d bytes", path, AUDIT_KEY_BYTES);
    } else {
        rc = 0;
    }
    close(fd);
    return rc;
}

int audit_load_key(const char *data_dir, char *err, size_t errlen)
{
    uint8_t key[AUDIT_KEY_BYTES];
    char path[4200];
    key_path(data_dir, path, sizeof path);
    if (access(path, F_OK) != 0) {
        if (audit_create_key(data_dir, err, errlen) != 0)
            return -1;
        log_info("audit: created a new audit key %s (back it up apart from the database)", path);
    }
    if (audit_read_key(data_dir, key, err, errlen) != 0)
        return -1;
    audit_set_key(key);
    sodium_memzero(key, sizeof key);
    return 0;
}

/* ==== the chain ==================================================================== */

/* The hashed form of an entry: seq as 8 bytes big-endian, then each field as
 * its length (8 bytes big-endian) and its bytes, in a fixed order.  Built in
 * one buffer and hashed at once; fields too long for it are streamed. */
typedef struct {
    crypto_generichash_state *h;
    unsigned char buf[2048];
    size_t n;
} hash_input;

static void hash_bytes(hash_input *in, const void *p, size_t n)
{
    if (in->n + n > sizeof in->buf) {
        crypto_generichash_update(in->h, in->buf, in->n);
        in->n = 0;
        if (n > sizeof in->buf) {
            crypto_generichash_update(in->h, p, n);
            return;
        }
    }
    memcpy(in->buf + in->n, p, n);
    in->n += n;
}

static void put_u64(hash_input *in, uint64_t v)
{
    uint8_t b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    hash_bytes(in, b, sizeof b);
}

static void put_field(hash_input *in, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u64(in, n);
    if (n)
        hash_bytes(in, s, n);
}

void audit_entry_hash(const uint8_t key[AUDIT_KEY_BYTES], const store_audit_entry *e, char out[65])
{
    crypto_generichash_state h;
    uint8_t digest[32];
    if (key == process_key && atomic_load(&key_loaded))
        h = entry_base;
    else
        keyed_start(&h, key, ENTRY_TAG, sizeof digest);
    hash_input in = {.h = &h, .n = 0};
    put_u64(&in, (uint64_t)e->seq);
    put_field(&in, e->at);
    put_field(&in, e->actor);
    put_field(&in, e->org);
    put_field(&in, e->addr);
    put_field(&in, e->action);
    put_field(&in, e->object_type);
    put_field(&in, e->object_id);
    put_field(&in, e->detail);
    put_field(&in, e->prev);
    crypto_generichash_update(&h, in.buf, in.n);
    crypto_generichash_final(&h, digest, sizeof digest);
    sodium_bin2hex(out, 65, digest, sizeof digest);
}

void audit_text_mac(const char *text, size_t len, char out[33])
{
    crypto_generichash_state h;
    unsigned char digest[MAC_BYTES];
    if (atomic_load(&key_loaded))
        h = mac_base;
    else
        keyed_start(&h, process_key, MAC_TAG, MAC_BYTES);
    crypto_generichash_update(&h, (const unsigned char *)text, len);
    crypto_generichash_final(&h, digest, sizeof digest);
    sodium_bin2hex(out, 33, digest, sizeof digest);
}

/* The detail as compact, ASCII-only JSON with sorted keys ("{}" for NULL; a
 * non-object is wrapped as {"value": …}; unencodable or oversized detail is
 * replaced by a note).  Returns malloc'd text. */
static char *detail_text(const json_t *detail)
{
    if (!detail || json_is_null(detail))
        return strdup("{}");
    json_t *wrapped = NULL;
    if (!json_is_object(detail)) {
        wrapped = json_pack("{s:O}", "value", (json_t *)detail);
        detail = wrapped;
    }
    char *text =
        detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
    json_decref(wrapped);
    if (!text)
        return strdup("{\"unencodable\":true}");
    size_t len = strlen(text);
    if (len > AUDIT_MAX_DETAIL) {
        free(text);
        char note[64];
        snprintf(note, sizeof note, "{\"truncated\":true,\"bytes\":%zu}", len);
        return strdup(note);
    }
    return text;
}

/* Every field of e but the detail (left NULL). */
static void prepare_fields(audit_fields *e, const principal *p, const char *action,
                           const char *object_type, const char *object_id)
{
    e->at[0] = '\0';
    audit_safe_text(p ? p->actor : "system", e->actor, sizeof e->actor);
    if (!e->actor[0])
        snprintf(e->actor, sizeof e->actor, "%s", "unknown");
    audit_safe_text(p ? p->org : "", e->org, sizeof e->org);
    audit_safe_text(p ? p->addr : "", e->addr, sizeof e->addr);
    audit_safe_text(action && *action ? action : "unknown", e->action, sizeof e->action);
    audit_safe_text(object_type, e->object_type, sizeof e->object_type);
    audit_safe_text(object_id, e->object_id, sizeof e->object_id);
    e->detail = NULL;
}

static int prepare(audit_fields *e, const principal *p, const char *action, const char *object_type,
                   const char *object_id, const json_t *detail)
{
    prepare_fields(e, p, action, object_type, object_id);
    e->detail = detail_text(detail);
    return e->detail ? 0 : -1;
}

int audit_fields_prepare(audit_fields *f, const principal *p, const char *action,
                         const char *object_type, const char *object_id, const json_t *detail)
{
    return prepare(f, p, action, object_type, object_id, detail);
}

void audit_fields_release(audit_fields *f)
{
    free(f->detail);
    f->detail = NULL;
}

/* Appends prepared entries, in order, after the head the job sees: chained
 * here, then stored with one call (a few statements for many entries). */
static int append_n(store_tx *tx, const audit_fields *const *pes, size_t n)
{
    if (n == 0)
        return STORE_OK;
    store_audit_entry head;
    int rc = store_tx_audit_head(tx, &head);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return STORE_ERROR;
    int64_t seq = 0;
    char prev[65], last_at[32] = "";
    memcpy(prev, zero_hash, sizeof prev);
    if (rc == STORE_OK) {
        seq = head.seq;
        memcpy(prev, head.hash, sizeof prev);
        memcpy(last_at, head.at, sizeof last_at);
        store_audit_entry_release(&head);
    }
    store_audit_entry one, *es = n == 1 ? &one : malloc(n * sizeof *es);
    if (!es)
        return STORE_ERROR;
    for (size_t i = 0; i < n; i++) {
        const audit_fields *pe = pes[i];
        store_audit_entry *e = &es[i];
        *e = (store_audit_entry){.actor = pe->actor,
                                 .org = pe->org,
                                 .addr = pe->addr,
                                 .action = pe->action,
                                 .object_type = pe->object_type,
                                 .object_id = pe->object_id,
                                 .detail = pe->detail};
        if (pe->at[0]) /* recorded earlier (the read journal): when it happened */
            memcpy(e->at, pe->at, sizeof e->at);
        else
            clock_now(e->at);
        /* the wall clock may step back: timestamps in the trail never do */
        if (strcmp(e->at, last_at) < 0)
            memcpy(e->at, last_at, sizeof e->at);
        e->seq = ++seq;
        memcpy(e->prev, prev, sizeof e->prev);
        audit_entry_hash(process_key, e, e->hash);
        memcpy(prev, e->hash, sizeof prev);
        memcpy(last_at, e->at, sizeof last_at);
    }
    rc = store_tx_audit_append_n(tx, es, n);
    if (rc != STORE_OK)
        log_error("audit: cannot append entries %lld to %lld (%s)", (long long)es[0].seq,
                  (long long)es[n - 1].seq, pes[0]->action);
    if (es != &one)
        free(es);
    return rc == STORE_OK ? STORE_OK : STORE_ERROR;
}

int audit_tx_append_fields(store_tx *tx, const audit_fields *const *list, size_t n)
{
    return append_n(tx, list, n);
}

static int append(store_tx *tx, const audit_fields *pe)
{
    return append_n(tx, &pe, 1);
}

int audit_tx(store_tx *tx, const principal *p, const char *action, const char *object_type,
             const char *object_id, const json_t *detail)
{
    audit_fields e;
    if (prepare(&e, p, action, object_type, object_id, detail) != 0)
        return STORE_ERROR;
    int rc = append(tx, &e);
    free(e.detail);
    return rc;
}

static int prepared_job(store_tx *tx, void *arg)
{
    return append(tx, arg);
}

amp_code audit_log(core *c, const principal *p, const char *action, const char *object_type,
                   const char *object_id, const json_t *detail, amp_err *err)
{
    audit_fields e;
    if (prepare(&e, p, action, object_type, object_id, detail) != 0)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    int rc = store_run(core_store(c), prepared_job, &e);
    free(e.detail);
    if (rc != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "the audit trail could not be written");
    return AMP_OK;
}

/* Records a read whose detail is already compact, sorted, ASCII-only JSON. */
static amp_code read_entry(core *c, const principal *p, const char *action, const char *object_type,
                           const char *object_id, const json_t *detail, const char *detail_json,
                           amp_err *err)
{
    read_journal *j = core_read_journal(c);
    if (!j) {
        json_t *parsed = detail_json ? json_loads(detail_json, 0, NULL) : NULL;
        amp_code code =
            audit_log(c, p, action, object_type, object_id, detail_json ? parsed : detail, err);
        json_decref(parsed);
        return code;
    }
    audit_fields f;
    if (detail_json) { /* borrowed for the append: not freed */
        prepare_fields(&f, p, action, object_type, object_id);
        f.detail = (char *)detail_json;
    } else if (prepare(&f, p, action, object_type, object_id, detail) != 0) {
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    }
    int rc = read_journal_append(j, &f);
    if (!detail_json)
        free(f.detail);
    if (rc != 0)
        return amp_err_set(err, AMP_EINTERNAL, "the audit trail could not be written");
    return AMP_OK;
}

amp_code audit_read(core *c, const principal *p, const char *action, const char *object_type,
                    const char *object_id, const json_t *detail, amp_err *err)
{
    return read_entry(c, p, action, object_type, object_id, detail, NULL, err);
}

amp_code audit_read_json(core *c, const principal *p, const char *action, const char *object_type,
                         const char *object_id, const char *detail_json, amp_err *err)
{
    return read_entry(c, p, action, object_type, object_id, NULL, detail_json, err);
}

amp_code audit_reads_settle(core *c, amp_err *err)
{
    read_journal *j = core_read_journal(c);
    if (j && read_journal_settle(j) != 0)
        return amp_err_set(err, AMP_EINTERNAL,
                           "recent reads could not be added to the audit trail");
    return AMP_OK;
}

/* ---- asynchronous entries ----
 * audit_submit copies the entry and returns; the entry goes to the writer in a
 * job of its own, or with the other entries of its thread's round. */

typedef struct submitted {
    audit_fields e;
    audit_done_fn done;
    void *arg;
    struct submitted *next;
} submitted;

/* Appends the n entries of list, in order. */
static int append_list(store_tx *tx, submitted *list, size_t n)
{
    const audit_fields *stack[64] = {0};
    const audit_fields **pes = n <= 64 ? stack : calloc(n, sizeof *pes);
    if (!pes)
        return STORE_ERROR;
    size_t i = 0;
    for (submitted *s = list; s && i < n; s = s->next)
        pes[i++] = &s->e;
    int rc = append_n(tx, pes, i);
    if (pes != stack)
        free(pes);
    return rc;
}

static void finish(submitted *list, amp_code code)
{
    while (list) {
        submitted *next = list->next;
        if (list->done)
            list->done(list->arg, code);
        free(list->e.detail);
        free(list);
        list = next;
    }
}

/* ---- the entries of one server round ----
 * A server thread that opens a round (audit_round_begin) keeps the entries its
 * requests submit until audit_round_end, which hands them to the writer as one
 * job: one job and one wake-up per round instead of a shared queue touched by
 * every read, and no timed wait — the thread goes on with its next round while
 * the commit runs, and the entries of that round ride on the next commit. */

static _Thread_local struct {
    bool open;
    submitted *head, *tail;
    size_t n;
} cur_round;

void audit_round_begin(void)
{
    cur_round.open = true;
}

typedef struct {
    submitted *list;
    size_t n;
} entry_batch;

static int append_batch(store_tx *tx, void *arg)
{
    entry_batch *b = arg;
    return append_list(tx, b->list, b->n);
}

static void batch_done(void *arg, int rc)
{
    entry_batch *b = arg;
    finish(b->list, rc == STORE_OK ? AMP_OK : AMP_EINTERNAL);
    free(b);
}

size_t audit_round_end(core *c)
{
    cur_round.open = false;
    submitted *list = cur_round.head;
    size_t n = cur_round.n;
    cur_round.head = cur_round.tail = NULL;
    cur_round.n = 0;
    if (!list)
        return 0;
    entry_batch *b = malloc(sizeof *b);
    if (b) {
        b->list = list;
        b->n = n;
        if (store_submit(core_store(c), append_batch, batch_done, b) == STORE_OK)
            return n;
        free(b);
    }
    finish(list, AMP_EINTERNAL);
    return n;
}

amp_code audit_submit(core *c, const principal *p, const char *action, const char *object_type,
                      const char *object_id, const json_t *detail, audit_done_fn done, void *arg,
                      amp_err *err)
{
    submitted *s = calloc(1, sizeof *s);
    if (!s || prepare(&s->e, p, action, object_type, object_id, detail) != 0) {
        free(s);
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    }
    s->done = done;
    s->arg = arg;
    if (cur_round.open) {
        if (cur_round.tail)
            cur_round.tail->next = s;
        else
            cur_round.head = s;
        cur_round.tail = s;
        cur_round.n++;
        return AMP_OK;
    }
    entry_batch *b = malloc(sizeof *b);
    if (b) {
        b->list = s;
        b->n = 1;
        if (store_submit(core_store(c), append_batch, batch_done, b) == STORE_OK)
            return AMP_OK;
        free(b);
    }
    free(s->e.detail);
    free(s);
    return amp_err_set(err, AMP_EINTERNAL, "the audit trail could not be written");
}

/* ==== verification ================================================================= */

const char *audit_problem_name(audit_problem p)
{
    switch (p) {
    case AUDIT_INTACT: return "intact";
    case AUDIT_HASH_MISMATCH: return "hash_mismatch";
    case AUDIT_SEQ_GAP: return "sequence_gap";
    case AUDIT_PREV_MISMATCH: return "prev_mismatch";
    case AUDIT_TIME_ORDER: return "time_order";
    case AUDIT_HEAD_MISMATCH: return "head_mismatch";
    case AUDIT_TRUNCATED: return "truncated";
    case AUDIT_READ_ERROR: return "read_error";
    case AUDIT_FIELD_TYPE: return "field_type";
    case AUDIT_INDEX_MISSING: return "index_missing";
    case AUDIT_INDEX_EXTRA: return "index_extra";
    case AUDIT_INDEX_UPTO: return "index_upto";
    }
    return "?";
}

bool audit_problem_is_index(audit_problem p)
{
    return p == AUDIT_INDEX_MISSING || p == AUDIT_INDEX_EXTRA || p == AUDIT_INDEX_UPTO;
}

typedef struct {
    const uint8_t *key;
    const audit_checkpoint *expect;
    audit_verify_result *r;
    int64_t last_seq;
    char last_hash[65];
    char last_at[32];
} verify_state;

static int verify_fail(verify_state *v, audit_problem p, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int verify_fail(verify_state *v, audit_problem p, int64_t seq, const char *fmt, ...)
{
    v->r->problem = p;
    v->r->bad_seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->r->message, sizeof v->r->message, fmt, ap);
    va_end(ap);
    return 1; /* stops the scan */
}

static int verify_entry(void *arg, const store_audit_entry *e)
{
    verify_state *v = arg;
    v->r->entries++;
    int64_t want = v->last_seq + 1;
    if (e->seq != want)
        return verify_fail(v, AUDIT_SEQ_GAP, want,
                           "entry %lld is missing (the next entry is %lld): entries were removed",
                           (long long)want, (long long)e->seq);
    char hash[65];
    audit_entry_hash(v->key, e, hash);
    if (sodium_memcmp(hash, e->hash, 64) != 0 || strlen(e->hash) != 64)
        return verify_fail(v, AUDIT_HASH_MISMATCH, e->seq,
                           "entry %lld does not match its hash: it was changed, inserted or "
                           "forged without the audit key",
                           (long long)e->seq);
    const char *want_prev = v->last_seq ? v->last_hash : zero_hash;
    if (strcmp(e->prev, want_prev) != 0)
        return verify_fail(v, AUDIT_PREV_MISMATCH, e->seq,
                           "entry %lld does not follow entry %lld (prev hash differs): entries "
                           "were reordered, replaced or inserted",
                           (long long)e->seq, (long long)v->last_seq);
    if (v->last_seq && strcmp(e->at, v->last_at) < 0)
        return verify_fail(v, AUDIT_TIME_ORDER, e->seq,
                           "entry %lld (%s) is older than entry %lld (%s)", (long long)e->seq,
                           e->at, (long long)v->last_seq, v->last_at);
    if (v->expect && e->seq == v->expect->seq && strcmp(e->hash, v->expect->hash) != 0)
        return verify_fail(v, AUDIT_HEAD_MISMATCH, e->seq,
                           "entry %lld has hash %.16s…, not the recorded head %.16s…",
                           (long long)e->seq, e->hash, v->expect->hash);
    v->last_seq = e->seq;
    memcpy(v->last_hash, e->hash, sizeof v->last_hash);
    snprintf(v->last_at, sizeof v->last_at, "%s", e->at);
    v->r->head_seq = e->seq;
    memcpy(v->r->head_hash, e->hash, sizeof v->r->head_hash);
    return 0;
}

/* The chain verified, but what filtered lists read does not match it. */
static void lookup_problem(audit_verify_result *out, const store_audit_keys_check *k)
{
    out->bad_seq = k->seq;
    audit_safe_text(k->key, out->key, sizeof out->key);
    switch (k->problem) {
    case STORE_AUDIT_FIELD_TYPE:
        out->problem = AUDIT_FIELD_TYPE;
        snprintf(out->message, sizeof out->message,
                 "entry %lld %s: lists filtered on that field do not show it", (long long)k->seq,
                 k->what);
        break;
    case STORE_AUDIT_KEYS_UPTO:
        out->problem = AUDIT_INDEX_UPTO;
        snprintf(out->message, sizeof out->message,
                 "audit_keys_upto (how far the lookup table audit_keys reaches) %s: lists "
                 "filtered by actor or object may miss entries",
                 k->what);
        break;
    case STORE_AUDIT_KEYS_MISSING:
        out->problem = AUDIT_INDEX_MISSING;
        snprintf(out->message, sizeof out->message,
                 "entry %lld has no row '%s' in the lookup table audit_keys: lists filtered by "
                 "that key do not show it",
                 (long long)k->seq, out->key);
        break;
    default:
        out->problem = AUDIT_INDEX_EXTRA;
        snprintf(out->message, sizeof out->message,
                 "the lookup table audit_keys has a row '%s' for entry %lld that %s", out->key,
                 (long long)k->seq, k->what);
        break;
    }
}

int audit_verify(store *s, const uint8_t *key, const audit_checkpoint *expect,
                 audit_verify_result *out)
{
    memset(out, 0, sizeof *out);
    verify_state v = {.key = key ? key : process_key, .expect = expect, .r = out};
    store_audit_keys_check keys;
    int rc = store_audit_scan_checked(s, verify_entry, &v, &keys);
    if (rc == STORE_ERROR) {
        out->problem = AUDIT_READ_ERROR;
        snprintf(out->message, sizeof out->message, "the audit trail could not be read");
        return -1;
    }
    if (out->problem != AUDIT_INTACT)
        return 1;
    if (expect && out->head_seq < expect->seq) {
        out->problem = AUDIT_TRUNCATED;
        out->bad_seq = out->head_seq + 1;
        snprintf(out->message, sizeof out->message,
                 "the trail ends at entry %lld but the recorded head is entry %lld: "
                 "entries from %lld on were removed",
                 (long long)out->head_seq, (long long)expect->seq, (long long)out->head_seq + 1);
        return 1;
    }
    out->index_rows = keys.rows;
    if (!keys.complete) { /* cannot happen once the chain verified: fail safe */
        out->problem = AUDIT_READ_ERROR;
        snprintf(out->message, sizeof out->message, "the lookup table audit_keys was not checked");
        return -1;
    }
    if (keys.problem != STORE_AUDIT_KEYS_OK) {
        lookup_problem(out, &keys);
        return 1;
    }
    snprintf(out->message, sizeof out->message,
             "audit trail intact: %lld entries, head %s; lookup table audit_keys matches "
             "(%lld rows)",
             (long long)out->entries, out->head_seq ? out->head_hash : "(empty)",
             (long long)keys.rows);
    return 0;
}

json_t *audit_verify_json(const audit_verify_result *r)
{
    json_t *o = json_pack("{s:b, s:I}", "intact", r->problem == AUDIT_INTACT, "entries",
                          (json_int_t)r->entries);
    if (!o)
        return NULL;
    json_object_set_new(
        o, "head",
        r->head_seq ? json_pack("{s:I, s:s}", "seq", (json_int_t)r->head_seq, "hash", r->head_hash)
                    : json_null());
    if (r->problem != AUDIT_INTACT) {
        json_object_set_new(o, "problem", json_string(audit_problem_name(r->problem)));
        json_object_set_new(o, "seq", json_integer(r->bad_seq));
        if (r->key[0])
            json_object_set_new(o, "key", json_string(r->key));
    }
    json_object_set_new(o, "message", json_string(r->message));
    return o;
}

int audit_head(store *s, audit_checkpoint *out)
{
    memset(out, 0, sizeof *out);
    store_audit_entry e;
    int rc = store_audit_head(s, &e);
    if (rc == STORE_NOTFOUND)
        return 0;
    if (rc != STORE_OK)
        return -1;
    out->seq = e.seq;
    snprintf(out->hash, sizeof out->hash, "%s", e.hash);
    store_audit_entry_release(&e);
    return 0;
}

int audit_head_matches_key(store *s, const uint8_t *key)
{
    store_audit_entry e;
    int rc = store_audit_head(s, &e);
    if (rc == STORE_NOTFOUND)
        return 1;
    if (rc != STORE_OK)
        return -1;
    char hash[65];
    audit_entry_hash(key ? key : process_key, &e, hash);
    bool same = strcmp(hash, e.hash) == 0;
    store_audit_entry_release(&e);
    return same ? 1 : 0;
}

/* ==== the core operations =========================================================== */

/* s as a JSON string, made valid UTF-8 first (rows changed outside Amparo may
 * hold anything); null when empty and empty_null. */
static json_t *jtext(const char *s, bool empty_null)
{
    if (!s || (!*s && empty_null))
        return json_null();
    size_t n = strlen(s) + 1;
    char *buf = malloc(n);
    if (!buf)
        return json_null();
    utf8_sanitize(s, buf, n);
    json_t *j = json_string(buf);
    free(buf);
    return j ? j : json_null();
}

static json_t *entry_json(const store_audit_entry *e)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_t *detail = json_loads(e->detail, JSON_DECODE_ANY, NULL);
    json_object_set_new(o, "seq", json_integer(e->seq));
    json_object_set_new(o, "at", jtext(e->at, false));
    json_object_set_new(o, "actor", jtext(e->actor, false));
    json_object_set_new(o, "org", jtext(e->org, true));
    json_object_set_new(o, "addr", jtext(e->addr, true));
    json_object_set_new(o, "action", jtext(e->action, false));
    json_object_set_new(o, "object_type", jtext(e->object_type, true));
    json_object_set_new(o, "object_id", jtext(e->object_id, true));
    /* a detail changed outside Amparo into something that is not JSON: shown as text */
    json_object_set_new(o, "detail", detail ? detail : jtext(e->detail, false));
    json_object_set_new(o, "prev", jtext(e->prev, false));
    json_object_set_new(o, "hash", jtext(e->hash, false));
    return o;
}

/* Records a refused audit operation and returns the refusal. */
static amp_code refuse(core *c, const principal *p, const char *what, amp_err *err)
{
    amp_err ignored = {0};
    json_t *d = json_pack("{s:s}", "operation", what);
    audit_log(c, p, "audit.denied", "audit", NULL, d, &ignored);
    json_decref(d);
    amp_err_clear(&ignored);
    return err->code;
}

amp_code audit_query(core *c, const principal *p, const list_param *params, size_t nparams,
                     json_t **out, amp_err *err)
{
    *out = NULL;
    if (authz_require(p, ACT_READ, RES_AUDIT, err) != AMP_OK)
        return refuse(c, p, "read", err);
    audit_filters f;
    amp_code code = audit_filters_parse(params, nparams, p->lang, &f, err);
    if (code != AMP_OK)
        return code;
    const store_audit_query *qp = &f.q;
    json_t *filters = f.filters; /* moved into the detail below */
    f.filters = NULL;
    /* the reads recorded so far are in the list (the read journal), and this
     * read is on disk before anything is shown */
    if ((code = audit_reads_settle(c, err)) != AMP_OK) {
        json_decref(filters);
        return code;
    }
    json_t *detail =
        json_pack("{s:o, s:i, s:i}", "filters", filters, "limit", qp->limit, "offset", qp->offset);
    code = audit_log(c, p, "audit.read", "audit", NULL, detail, err);
    json_decref(detail);
    if (code != AMP_OK)
        return code;
    store_audit_entry *rows = NULL;
    int nrows = 0;
    int64_t total = 0;
    if (store_audit_list(core_store(c), qp, &rows, &nrows, &total) != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "storage failure");
    json_t *items = json_array();
    for (int i = 0; i < nrows; i++) {
        json_array_append_new(items, entry_json(&rows[i]));
        store_audit_entry_release(&rows[i]);
    }
    free(rows);
    *out = json_pack("{s:o, s:I, s:i, s:i}", "items", items, "total", (json_int_t)total, "limit",
                     qp->limit, "offset", qp->offset);
    return *out ? AMP_OK : amp_err_set(err, AMP_EINTERNAL, "out of memory");
}

amp_code audit_check(core *c, const principal *p, const list_param *params, size_t nparams,
                     json_t **out, amp_err *err)
{
    *out = NULL;
    if (authz_require(p, ACT_READ, RES_AUDIT, err) != AMP_OK)
        return refuse(c, p, "verify", err);
    audit_checkpoint expect;
    bool have_expect = false;
    amp_code code = audit_verify_params_parse(params, nparams, p->lang, &expect, &have_expect, err);
    if (code != AMP_OK)
        return code;
    if ((code = audit_reads_settle(c, err)) != AMP_OK) /* the reads so far are checked too */
        return code;
    audit_verify_result r;
    if (audit_verify(core_store(c), NULL, have_expect ? &expect : NULL, &r) < 0)
        return amp_err_set(err, AMP_EINTERNAL, "the audit trail could not be read");
    json_t *detail = json_pack("{s:b, s:I, s:s}", "intact", r.problem == AUDIT_INTACT, "entries",
                               (json_int_t)r.entries, "problem", audit_problem_name(r.problem));
    if (r.problem != AUDIT_INTACT)
        json_object_set_new(detail, "seq", json_integer(r.bad_seq));
    code = audit_log(c, p, "audit.verify", "audit", NULL, detail, err);
    json_decref(detail);
    if (code != AMP_OK)
        return code;
    *out = audit_verify_json(&r);
    return *out ? AMP_OK : amp_err_set(err, AMP_EINTERNAL, "out of memory");
}

typedef struct {
    const principal *p;
    const audit_verify_result *found;
    audit_repair_result *out;
} repair_job_arg;

static int repair_job(store_tx *tx, void *arg)
{
    repair_job_arg *a = arg;
    int rc = store_tx_audit_keys_rebuild(tx, &a->out->removed, &a->out->added);
    if (rc != STORE_OK)
        return rc;
    json_t *detail = json_pack("{s:I, s:I}", "removed", (json_int_t)a->out->removed, "added",
                               (json_int_t)a->out->added);
    if (detail && a->found && a->found->problem != AUDIT_INTACT) {
        json_object_set_new(detail, "problem", json_string(audit_problem_name(a->found->problem)));
        json_object_set_new(detail, "seq", json_integer(a->found->bad_seq));
    }
    rc = detail ? audit_tx(tx, a->p, "audit.index_repair", "audit", NULL, detail) : STORE_ERROR;
    json_decref(detail);
    return rc;
}

amp_code audit_repair_index(core *c, const principal *p, const audit_verify_result *found,
                            audit_repair_result *out, amp_err *err)
{
    memset(out, 0, sizeof *out);
    if (authz_require(p, ACT_ADMIN, RES_AUDIT, err) != AMP_OK)
        return refuse(c, p, "repair_index", err);
    repair_job_arg a = {.p = p, .found = found, .out = out};
    if (store_run(core_store(c), repair_job, &a) != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "the lookup table audit_keys could not be rebuilt");
    return AMP_OK;
}

/* ==== bulk loads ===================================================================== */

char *audit_detail_text(const json_t *detail)
{
    return detail_text(detail);
}

int audit_tx_chain(store_tx *tx, audit_chain *chain, const principal *p, const char *action,
                   const char *object_type, const char *object_id, const char *detail_text)
{
    if (!chain->loaded) {
        store_audit_entry head;
        int rc = store_tx_audit_head(tx, &head);
        if (rc != STORE_OK && rc != STORE_NOTFOUND)
            return STORE_ERROR;
        chain->seq = 0;
        memcpy(chain->prev, zero_hash, sizeof chain->prev);
        chain->last_at[0] = 0;
        if (rc == STORE_OK) {
            chain->seq = head.seq;
            memcpy(chain->prev, head.hash, sizeof chain->prev);
            memcpy(chain->last_at, head.at, sizeof chain->last_at);
            store_audit_entry_release(&head);
        }
        chain->loaded = true;
    }
    audit_fields pe;
    audit_safe_text(p ? p->actor : "system", pe.actor, sizeof pe.actor);
    if (!pe.actor[0])
        snprintf(pe.actor, sizeof pe.actor, "%s", "unknown");
    audit_safe_text(p ? p->org : "", pe.org, sizeof pe.org);
    audit_safe_text(p ? p->addr : "", pe.addr, sizeof pe.addr);
    audit_safe_text(action && *action ? action : "unknown", pe.action, sizeof pe.action);
    audit_safe_text(object_type, pe.object_type, sizeof pe.object_type);
    audit_safe_text(object_id, pe.object_id, sizeof pe.object_id);
    store_audit_entry e = {.actor = pe.actor,
                           .org = pe.org,
                           .addr = pe.addr,
                           .action = pe.action,
                           .object_type = pe.object_type,
                           .object_id = pe.object_id,
                           .detail = detail_text ? detail_text : "{}"};
    clock_now(e.at);
    if (strcmp(e.at, chain->last_at) < 0)
        memcpy(e.at, chain->last_at, sizeof e.at);
    e.seq = chain->seq + 1;
    memcpy(e.prev, chain->prev, sizeof e.prev);
    audit_entry_hash(process_key, &e, e.hash);
    if (store_tx_audit_append(tx, &e) != STORE_OK) {
        log_error("audit: cannot append entry %lld (%s)", (long long)e.seq, pe.action);
        return STORE_ERROR;
    }
    chain->seq = e.seq;
    memcpy(chain->prev, e.hash, sizeof chain->prev);
    memcpy(chain->last_at, e.at, sizeof chain->last_at);
    return STORE_OK;
}

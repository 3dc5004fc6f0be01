/* sqlite_security.c — user accounts, sessions and API tokens, case restrictions
 * (SQLite).  Tokens are stored only as hashes; the core makes and checks them. */
#include "store/sqlite_int.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_COLS                                                                                  \
    "id, username, org, roles, pw_hash, disabled, lang, display_name, totp_secret, "               \
    "totp_enabled, version, created_at, updated_at, password_changed_at"
#define SESSION_COLS                                                                               \
    "token_hash, user_id, kind, name, roles, csrf, created_ms, last_seen_ms, expires_ms, "         \
    "idle_ms, addr, mfa_pending"

static const char sql_user_by_name[] = "SELECT " USER_COLS " FROM users WHERE username = ?1";
static const char sql_user_by_id[] = "SELECT " USER_COLS " FROM users WHERE id = ?1";
static const char sql_user_list_all[] = "SELECT " USER_COLS " FROM users ORDER BY username";
static const char sql_user_list_org[] =
    "SELECT " USER_COLS " FROM users WHERE org = ?1 ORDER BY username";
static const char sql_user_count[] = "SELECT count(*) FROM users";
static const char sql_user_insert[] =
    "INSERT INTO users(username, org, roles, pw_hash, disabled, lang, display_name, totp_secret, "
    "totp_enabled, version, created_at, updated_at, password_changed_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10, ?11)";
static const char sql_user_update[] =
    "UPDATE users SET org = ?2, roles = ?3, pw_hash = ?4, disabled = ?5, lang = ?6, "
    "display_name = ?7, totp_secret = ?8, totp_enabled = ?9, version = version + 1, "
    "updated_at = ?10, password_changed_at = ?11 WHERE id = ?12 AND version = ?13";
static const char sql_session_get[] = "SELECT " SESSION_COLS " FROM sessions WHERE token_hash = ?1";
static const char sql_session_list_all[] =
    "SELECT " SESSION_COLS " FROM sessions WHERE user_id = ?1 ORDER BY created_ms";
static const char sql_session_list_kind[] =
    "SELECT " SESSION_COLS " FROM sessions WHERE user_id = ?1 AND kind = ?2 ORDER BY created_ms";
static const char sql_session_put[] = "INSERT OR REPLACE INTO sessions(" SESSION_COLS ") "
                                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
static const char sql_session_delete[] = "DELETE FROM sessions WHERE token_hash = ?1";
static const char sql_session_delete_user[] = "DELETE FROM sessions WHERE user_id = ?1";
static const char sql_session_delete_user_kind[] =
    "DELETE FROM sessions WHERE user_id = ?1 AND kind = ?2";
static const char sql_session_touch[] =
    "UPDATE sessions SET last_seen_ms = max(last_seen_ms, ?2) WHERE token_hash = ?1";
static const char sql_case_restrict[] = "UPDATE cases SET restricted_to = ?2 WHERE id = ?1";

static void read_user(sqlite3_stmt *st, store_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(st, 0);
    col_text(st, 1, u->username, sizeof u->username);
    col_text(st, 2, u->org, sizeof u->org);
    u->roles = (uint32_t)sqlite3_column_int64(st, 3);
    col_text(st, 4, u->pw_hash, sizeof u->pw_hash);
    u->disabled = sqlite3_column_int(st, 5) != 0;
    col_text(st, 6, u->lang, sizeof u->lang);
    col_text(st, 7, u->display_name, sizeof u->display_name);
    col_text(st, 8, u->totp_secret, sizeof u->totp_secret);
    u->totp_enabled = sqlite3_column_int(st, 9) != 0;
    u->version = sqlite3_column_int64(st, 10);
    col_text(st, 11, u->created_at, sizeof u->created_at);
    col_text(st, 12, u->updated_at, sizeof u->updated_at);
    col_text(st, 13, u->password_changed_at, sizeof u->password_changed_at);
}

static void read_session(sqlite3_stmt *st, store_session *ss)
{
    memset(ss, 0, sizeof *ss);
    col_text(st, 0, ss->token_hash, sizeof ss->token_hash);
    ss->user_id = sqlite3_column_int64(st, 1);
    col_text(st, 2, ss->kind, sizeof ss->kind);
    col_text(st, 3, ss->name, sizeof ss->name);
    ss->roles = (uint32_t)sqlite3_column_int64(st, 4);
    col_text(st, 5, ss->csrf, sizeof ss->csrf);
    ss->created_ms = sqlite3_column_int64(st, 6);
    ss->last_seen_ms = sqlite3_column_int64(st, 7);
    ss->expires_ms = sqlite3_column_int64(st, 8);
    ss->idle_ms = sqlite3_column_int64(st, 9);
    col_text(st, 10, ss->addr, sizeof ss->addr);
    ss->mfa_pending = sqlite3_column_int(st, 11) != 0;
}

int sq_user_get(store *base, const char *username, int64_t id, store_user *out)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    sqlite3_stmt *st = sq_stmt(c, username ? sql_user_by_name : sql_user_by_id);
    if (st) {
        if (username)
            sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, 1, id);
        int src = sqlite3_step(st);
        if (src == SQLITE_ROW)
            read_user(st, out);
        rc = src == SQLITE_ROW ? STORE_OK : src == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
        sqlite3_reset(st);
    }
    reader_release(s, c);
    return rc;
}

/* Steps st collecting rows of `size` bytes read by `read` into a growing array. */
static int collect(sqlite3_stmt *st, void **rows, int *nrows, size_t size,
                   void (*read)(sqlite3_stmt *, void *))
{
    int cap = 0, src;
    *rows = NULL;
    *nrows = 0;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (*nrows == cap) {
            cap = cap ? cap * 2 : 16;
            void *grown = realloc(*rows, (size_t)cap * size);
            if (!grown) {
                src = SQLITE_NOMEM;
                break;
            }
            *rows = grown;
        }
        read(st, (char *)*rows + (size_t)(*nrows)++ * size);
    }
    sqlite3_reset(st);
    if (src != SQLITE_DONE) {
        free(*rows);
        *rows = NULL;
        *nrows = 0;
        return STORE_ERROR;
    }
    return STORE_OK;
}

static void read_user_v(sqlite3_stmt *st, void *u)
{
    read_user(st, u);
}

static void read_session_v(sqlite3_stmt *st, void *ss)
{
    read_session(st, ss);
}

int sq_user_list(store *base, const char *org, store_user **rows, int *nrows)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    sqlite3_stmt *st = sq_stmt(c, org ? sql_user_list_org : sql_user_list_all);
    if (st) {
        if (org)
            sqlite3_bind_text(st, 1, org, -1, SQLITE_STATIC);
        rc = collect(st, (void **)rows, nrows, sizeof **rows, read_user_v);
    }
    reader_release(s, c);
    return rc;
}

int sq_user_count(store *base, int64_t *n)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    sqlite3_stmt *st = sq_stmt(c, sql_user_count);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
        rc = STORE_OK;
    }
    if (st)
        sqlite3_reset(st);
    reader_release(s, c);
    return rc;
}

int sq_tx_user_put(store_tx *tx, store_user *u, int64_t expected_version)
{
    conn *c = tx->c;
    sqlite3_stmt *st = sq_stmt(c, expected_version > 0 ? sql_user_update : sql_user_insert);
    if (!st)
        return STORE_ERROR;
    if (expected_version > 0) {
        sqlite3_bind_text(st, 2, u->org, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, u->roles);
        sqlite3_bind_text(st, 4, u->pw_hash, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, u->disabled);
        sqlite3_bind_text(st, 6, u->lang, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, u->display_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, u->totp_secret, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 9, u->totp_enabled);
        sqlite3_bind_text(st, 10, u->updated_at, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 11, u->password_changed_at, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 12, u->id);
        sqlite3_bind_int64(st, 13, expected_version);
    } else {
        sqlite3_bind_text(st, 1, u->username, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, u->org, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, u->roles);
        sqlite3_bind_text(st, 4, u->pw_hash, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, u->disabled);
        sqlite3_bind_text(st, 6, u->lang, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, u->display_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, u->totp_secret, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 9, u->totp_enabled);
        sqlite3_bind_text(st, 10, u->created_at, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 11, u->password_changed_at, -1, SQLITE_STATIC);
    }
    int rc = step_done(st, c->db);
    if (rc != STORE_OK)
        return rc;
    if (expected_version > 0) {
        if (sqlite3_changes(c->db) == 0)
            return STORE_CONFLICT;
        u->version = expected_version + 1;
    } else {
        u->id = sqlite3_last_insert_rowid(c->db);
        u->version = 1;
    }
    return STORE_OK;
}

int sq_session_get(store *base, const char *token_hash, store_session *out)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    sqlite3_stmt *st = sq_stmt(c, sql_session_get);
    if (st) {
        sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
        int src = sqlite3_step(st);
        if (src == SQLITE_ROW)
            read_session(st, out);
        rc = src == SQLITE_ROW ? STORE_OK : src == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
        sqlite3_reset(st);
    }
    reader_release(s, c);
    return rc;
}

int sq_session_list(store *base, int64_t user_id, const char *kind, store_session **rows,
                    int *nrows)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    sqlite3_stmt *st = sq_stmt(c, kind ? sql_session_list_kind : sql_session_list_all);
    if (st) {
        sqlite3_bind_int64(st, 1, user_id);
        if (kind)
            sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
        rc = collect(st, (void **)rows, nrows, sizeof **rows, read_session_v);
    }
    reader_release(s, c);
    return rc;
}

int sq_tx_session_put(store_tx *tx, const store_session *ss)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_session_put);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, ss->token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ss->user_id);
    sqlite3_bind_text(st, 3, ss->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ss->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, ss->roles);
    sqlite3_bind_text(st, 6, ss->csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, ss->created_ms);
    sqlite3_bind_int64(st, 8, ss->last_seen_ms);
    sqlite3_bind_int64(st, 9, ss->expires_ms);
    sqlite3_bind_int64(st, 10, ss->idle_ms);
    sqlite3_bind_text(st, 11, ss->addr, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 12, ss->mfa_pending);
    return step_done(st, tx->c->db);
}

int sq_tx_session_delete(store_tx *tx, const char *token_hash, int64_t user_id, const char *kind)
{
    sqlite3_stmt *st;
    if (token_hash) {
        st = sq_stmt(tx->c, sql_session_delete);
        if (!st)
            return STORE_ERROR;
        sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
    } else {
        st = sq_stmt(tx->c, kind ? sql_session_delete_user_kind : sql_session_delete_user);
        if (!st)
            return STORE_ERROR;
        sqlite3_bind_int64(st, 1, user_id);
        if (kind)
            sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    }
    int rc = step_done(st, tx->c->db);
    if (rc == STORE_OK && token_hash && sqlite3_changes(tx->c->db) == 0)
        rc = STORE_NOTFOUND;
    return rc;
}

int sq_tx_session_touch(store_tx *tx, const char *token_hash, int64_t last_seen_ms)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_session_touch);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, last_seen_ms);
    return step_done(st, tx->c->db);
}

int sq_tx_case_restrict(store_tx *tx, int64_t case_id, const char *users)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_case_restrict);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_text(st, 2, users ? users : "", -1, SQLITE_STATIC);
    int rc = step_done(st, tx->c->db);
    if (rc == STORE_OK && sqlite3_changes(tx->c->db) == 0)
        rc = STORE_NOTFOUND;
    return rc;
}

/* routes_auth.c — signing in and out, the signed-in user, user administration,
 * API tokens and the permission matrix.  Handlers translate HTTP ↔ accounts. */
#include "core/accounts.h"
#include "http/request.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Answers out (200) or the error, and clears err. */
static void answer(request *r, amp_code code, json_t *out, amp_err *err)
{
    if (code == AMP_OK)
        req_reply(r, MHD_HTTP_OK, out ? out : json_object());
    else
        req_fail(r, err);
    amp_err_clear(err);
}

static void iso_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- sign in and out ---- */

static void h_login(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    const char *key;
    json_t *v;
    bool ok = json_is_object(body);
    json_object_foreach (body, key, v) {
        if (strcmp(key, "username") && strcmp(key, "password") && strcmp(key, "totp")) {
            char safe[80];
            utf8_sanitize(key, safe, sizeof safe);
            amp_err_field(&err, safe, "unknown_field", "this field is not accepted here");
            ok = false;
        } else if (!json_is_string(v)) {
            amp_err_field(&err, key, "type", "must be a string");
            ok = false;
        }
    }
    const char *user = json_string_value(json_object_get(body, "username"));
    const char *pass = json_string_value(json_object_get(body, "password"));
    if (ok && (!user || !pass)) {
        if (!user)
            amp_err_field(&err, "username", "required", "give your user name");
        if (!pass)
            amp_err_field(&err, "password", "required", "give your password");
        ok = false;
    }
    if (!ok) {
        amp_err_set(&err, json_is_object(body) ? AMP_EINVALID : AMP_EBADREQ,
                    "give {\"username\", \"password\"} and, if enrolled, \"totp\"");
        json_decref(body);
        answer(r, AMP_EINVALID, NULL, &err);
        return;
    }
    login_result lr;
    amp_code code = accounts_login(req_accounts(r), user, pass,
                                   json_string_value(json_object_get(body, "totp")), r->client_addr,
                                   r->who.lang, &lr, &err);
    json_decref(body);
    if (code != AMP_OK) {
        answer(r, code, NULL, &err);
        return;
    }
    char exp[32];
    iso_time(lr.expires_ms, exp);
    long max_age = (long)((lr.expires_ms - (int64_t)time(NULL) * 1000) / 1000);
    snprintf(r->set_cookie, sizeof r->set_cookie,
             "amparo_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s", lr.token,
             max_age > 0 ? max_age : 0, r->srv_tls ? "; Secure" : "");
    json_t *out = json_pack("{s:s, s:s, s:s, s:O, s:b}", "token", lr.token, "csrf_token", lr.csrf,
                            "expires_at", exp, "user", lr.user, "mfa_enrolment_required",
                            lr.mfa_enrolment_required);
    login_result_release(&lr);
    answer(r, AMP_OK, out, &err);
}

static void h_logout(request *r)
{
    amp_err err = {0};
    amp_code code = accounts_logout(req_accounts(r), &r->who, r->token_hash, &err);
    snprintf(r->set_cookie, sizeof r->set_cookie,
             "amparo_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
             r->srv_tls ? "; Secure" : "");
    answer(r, code, json_pack("{s:b}", "signed_out", code == AMP_OK), &err);
}

/* ---- the signed-in user ---- */

/* The signed-in user.  A cookie session also gets its CSRF token back, so a
 * reloaded page can go on (another site cannot read this answer). */
static void h_me(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = accounts_me(req_accounts(r), &r->who, &out, &err);
    if (code == AMP_OK && r->via_cookie && r->csrf[0])
        json_object_set_new(out, "csrf_token", json_string(r->csrf));
    answer(r, code, out, &err);
}

static void h_me_patch(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = accounts_me_update(req_accounts(r), &r->who, body, &out, &err);
    json_decref(body);
    answer(r, code, out, &err);
}

static void h_totp_begin(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = accounts_totp_begin(req_accounts(r), &r->who, &out, &err);
    answer(r, code, out, &err);
}

static void h_totp_confirm(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    const char *code_text = json_string_value(json_object_get(body, "code"));
    amp_code code;
    if (!json_is_object(body) || json_object_size(body) != 1 || !code_text) {
        amp_err_field(&err, "code", "required", "give {\"code\": \"123456\"}");
        code = amp_err_set(&err, AMP_EINVALID, "give the 6-digit code from your app");
    } else {
        code = accounts_totp_confirm(req_accounts(r), &r->who, code_text, &err);
    }
    json_decref(body);
    answer(r, code, code == AMP_OK ? json_pack("{s:b}", "mfa_enrolled", 1) : NULL, &err);
}

/* ---- users ---- */

static void h_users_list(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = accounts_user_list(req_accounts(r), &r->who, &out, &err);
    answer(r, code, out, &err);
}

static void h_users_create(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = accounts_user_create(req_accounts(r), &r->who, body, &out, &err);
    json_decref(body);
    if (code == AMP_OK) {
        req_reply(r, MHD_HTTP_CREATED, out);
        snprintf(r->location, sizeof r->location, "/api/v1/users/%s",
                 json_string_value(json_object_get(out, "username")));
        return;
    }
    answer(r, code, NULL, &err);
}

static void h_user_get(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = accounts_user_get(req_accounts(r), &r->who, r->params[0], &out, &err);
    answer(r, code, out, &err);
}

static void h_user_patch(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = accounts_user_update(req_accounts(r), &r->who, r->params[0], body, &out, &err);
    json_decref(body);
    answer(r, code, out, &err);
}

static void user_disable(request *r, bool disabled)
{
    amp_err err = {0};
    amp_code code = accounts_user_disable(req_accounts(r), &r->who, r->params[0], disabled, &err);
    answer(r, code,
           code == AMP_OK ? json_pack("{s:s, s:b}", "username", r->params[0], "disabled", disabled)
                          : NULL,
           &err);
}

static void h_user_disable(request *r)
{
    user_disable(r, true);
}

static void h_user_enable(request *r)
{
    user_disable(r, false);
}

static void h_user_reset_password(request *r)
{
    const char *password = NULL;
    json_t *body = NULL;
    if (r->body_len) {
        body = req_json_body(r);
        if (!body)
            return;
        password = json_string_value(json_object_get(body, "password"));
    }
    amp_err err = {0};
    char *generated = NULL;
    amp_code code = accounts_user_reset_password(req_accounts(r), &r->who, r->params[0], password,
                                                 &generated, &err);
    json_decref(body);
    json_t *out = NULL;
    if (code == AMP_OK) {
        out = json_pack("{s:s, s:s?}", "username", r->params[0], "password", generated);
        if (generated) {
            sodium_memzero(generated, strlen(generated));
            free(generated);
        }
    }
    answer(r, code, out, &err);
}

static void h_user_reset_totp(request *r)
{
    amp_err err = {0};
    amp_code code = accounts_user_reset_totp(req_accounts(r), &r->who, r->params[0], &err);
    answer(r, code,
           code == AMP_OK ? json_pack("{s:s, s:b}", "username", r->params[0], "mfa_enrolled", 0)
                          : NULL,
           &err);
}

static void h_roles(request *r)
{
    req_reply(r, MHD_HTTP_OK, authz_matrix_json());
}

/* ---- API tokens ---- */

static void h_tokens_list(request *r)
{
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = accounts_token_list(req_accounts(r), &r->who, &out, &err);
    answer(r, code, out, &err);
}

static void h_tokens_create(request *r)
{
    json_t *body = req_json_body(r);
    if (!body)
        return;
    amp_err err = {0};
    json_t *out = NULL;
    amp_code code = accounts_token_create(req_accounts(r), &r->who, body, &out, &err);
    json_decref(body);
    if (code == AMP_OK) {
        req_reply(r, MHD_HTTP_CREATED, out);
        return;
    }
    answer(r, code, NULL, &err);
}

static void h_token_revoke(request *r)
{
    amp_err err = {0};
    amp_code code = accounts_token_revoke(req_accounts(r), &r->who, r->params[0], &err);
    answer(r, code,
           code == AMP_OK ? json_pack("{s:s, s:b}", "id", r->params[0], "revoked", 1) : NULL, &err);
}

const route routes_auth[] = {
    {"POST", "/api/v1/login", h_login, ROUTE_PUBLIC, .slow = ROUTE_SLOW_HASHING},
    {"POST", "/api/v1/logout", h_logout, ROUTE_MFA_PENDING},
    {"GET", "/api/v1/me", h_me, ROUTE_MFA_PENDING},
    {"PATCH", "/api/v1/me", h_me_patch, ROUTE_MFA_PENDING, .slow = ROUTE_SLOW_HASHING},
    {"POST", "/api/v1/me/totp", h_totp_begin, ROUTE_MFA_PENDING},
    {"POST", "/api/v1/me/totp/confirm", h_totp_confirm, ROUTE_MFA_PENDING},
    {"GET", "/api/v1/users", h_users_list},
    {"POST", "/api/v1/users", h_users_create, .slow = ROUTE_SLOW_HASHING},
    {"GET", "/api/v1/users/:username", h_user_get},
    {"PATCH", "/api/v1/users/:username", h_user_patch},
    {"POST", "/api/v1/users/:username/disable", h_user_disable},
    {"POST", "/api/v1/users/:username/enable", h_user_enable},
    {"POST", "/api/v1/users/:username/reset-password", h_user_reset_password,
     .slow = ROUTE_SLOW_HASHING},
    {"POST", "/api/v1/users/:username/reset-totp", h_user_reset_totp},
    {"GET", "/api/v1/roles", h_roles},
    {"GET", "/api/v1/tokens", h_tokens_list},
    {"POST", "/api/v1/tokens", h_tokens_create},
    {"DELETE", "/api/v1/tokens/:id", h_token_revoke},
    {NULL, NULL, NULL},
};

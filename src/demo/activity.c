/* activity.c — a few months of work by the demo organisations, replayed
 * through the core.
 *
 * The run has two phases.  Planning draws, from one seeded random stream, the
 * stories of the period: which cases are referred where and what becomes of
 * each referral, who is admitted to a shelter and for how long, what
 * assistance is given, which cases get identification decisions or a
 * reintegration plan, the trainings held and the hotline's contacts.  Each
 * story is a few timed actions.  Replaying sorts every action by time, sets
 * the clock to that moment and calls the core as the organisation concerned
 * (a caseworker sends, the receiver's caseworker answers, shelter staff admit
 * and discharge…).  The core decides: a case whose consent does not allow
 * the referral is refused and the story ends there; a full shelter puts the
 * person on its waiting list.  Any other refusal stops the run.
 */
#include "demo/activity.h"

#include "core/assistance.h"
#include "core/care_common.h"
#include "core/directory.h"
#include "core/hotline.h"
#include "core/lifecycle.h"
#include "core/proceedings.h"
#include "core/referrals.h"
#include "core/reintegration.h"
#include "core/returns.h"
#include "core/shelters.h"
#include "core/trainings.h"
#include "store/store.h"
#include "util/clock.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define PERIOD_DAYS 150 /* the simulated period ends today */
#define DAY 86400LL
#define HOUR 3600LL

/* ==== random numbers (splitmix64: small, seeded, independent of demo.c) ==== */

typedef struct {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint32_t rnd(rng *r, uint32_t n)
{
    return n ? (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32) : 0;
}
static int rnd_range(rng *r, int lo, int hi)
{
    return lo + (int)rnd(r, (uint32_t)(hi - lo + 1));
}
static bool chance(rng *r, unsigned pct)
{
    return rnd(r, 100) < pct;
}
static unsigned pick_w(rng *r, const unsigned *w, unsigned n)
{
    unsigned total = 0;
    for (unsigned i = 0; i < n; i++)
        total += w[i];
    unsigned x = rnd(r, total);
    for (unsigned i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}
#define PICK(r, a) ((a)[rnd((r), (uint32_t)COUNT(a))])

/* ==== the demo organisations ============================================= */

enum {
    S_SHELTER,
    S_MEDICAL,
    S_PSYCHO,
    S_CRISIS,
    S_LEGAL,
    S_INTERVIEW,
    S_INTERP,
    S_EDU,
    S_VOC,
    S_INCOME,
    S_FTRACE,
    S_FREUN,
    S_AVR,
    S_GRANT,
    S_DOCS,
    S_COUNT
};
static const char *const service_names[S_COUNT] = {"Shelter",
                                                   "Medical",
                                                   "Psychosocial",
                                                   "CrisisIntervention",
                                                   "LegalAid",
                                                   "Interview",
                                                   "Interpretation",
                                                   "Education",
                                                   "VocationalTraining",
                                                   "IncomeGeneration",
                                                   "FamilyTracing",
                                                   "FamilyReunification",
                                                   "AssistedVoluntaryReturn",
                                                   "ReintegrationGrant",
                                                   "Documents"};
#define B(s) (1u << (s))

typedef struct {
    const char *id, *country, *currency, *region, *langs, *phone;
    const char *decision_maker; /* vic_TraffickingStatusDecisionMakingOrg when it decides */
    unsigned services;
    int capacity;
} org_info;

static const org_info orgs[] = {
    {"ec-fundacion-alas", "EC", "USD", "Pichincha", "es,en", "+59322543817", "NGO",
     B(S_PSYCHO) | B(S_LEGAL) | B(S_CRISIS) | B(S_VOC) | B(S_INCOME) | B(S_DOCS) | B(S_FTRACE), 60},
    {"ec-acogida-santa-marta", "EC", "USD", "Guayas", "es", "+59342390516", "NGO",
     B(S_SHELTER) | B(S_PSYCHO) | B(S_MEDICAL) | B(S_EDU) | B(S_CRISIS), 29},
    {"ec-unidad-trata-zona1", "EC", "USD", "Imbabura", "es", "+59362955210", "Police",
     B(S_INTERVIEW) | B(S_LEGAL) | B(S_CRISIS), 0},
    {"pe-warmi-kallpa", "PE", "PEN", "Cusco", "es,qu", "+5184236541", "NGO",
     B(S_PSYCHO) | B(S_LEGAL) | B(S_VOC) | B(S_FTRACE), 40},
    {"pe-refugio-amazonia", "PE", "PEN", "Madre de Dios", "es", "+5182571930", "NGO",
     B(S_SHELTER) | B(S_PSYCHO) | B(S_MEDICAL), 18},
    {"pe-oficina-victimas-tacna", "PE", "PEN", "Tacna", "es", "+5152413377",
     "NonPoliceGovernmentalOrganization", B(S_LEGAL) | B(S_DOCS) | B(S_AVR) | B(S_INTERP), 0},
    {"co-semillas-esperanza", "CO", "COP", "Norte de Santander", "es", "+576075718220", "NGO",
     B(S_SHELTER) | B(S_PSYCHO) | B(S_FTRACE) | B(S_FREUN) | B(S_AVR), 24},
    {"co-ruta-segura", "CO", "COP", "Antioquia", "es,en", "+576044448120", "NGO",
     B(S_LEGAL) | B(S_VOC) | B(S_INCOME) | B(S_GRANT), 35},
    {"co-salud-renacer", "CO", "COP", "Bogotá D.C.", "es", "+576013245690", "NGO",
     B(S_MEDICAL) | B(S_PSYCHO), 50},
    {"gt-nim-ja", "GT", "GTQ", "Quetzaltenango", "es", "+50277614420", "NGO",
     B(S_PSYCHO) | B(S_LEGAL) | B(S_EDU), 30},
    {"gt-hogar-luz-camino", "GT", "GTQ", "Guatemala", "es", "+50223318760", "NGO",
     B(S_SHELTER) | B(S_MEDICAL) | B(S_PSYCHO), 20},
    {"ua-svitanok", "UA", "UAH", "Vinnytska", "uk,ru", "+380432556120", "NGO",
     B(S_PSYCHO) | B(S_VOC) | B(S_INCOME), 40},
    {"ua-nadiinyi-bereh", "UA", "UAH", "Odeska", "uk,ru", "+380487345521", "NGO",
     B(S_SHELTER) | B(S_PSYCHO) | B(S_MEDICAL) | B(S_AVR), 22},
    {"ua-pravo-poruch", "UA", "UAH", "Kharkivska", "uk", "+380577140093", "NGO",
     B(S_LEGAL) | B(S_DOCS), 0},
    {"by-rastan", "BY", "BYN", "Minsk", "be,ru", "+375172904418", "NGO",
     B(S_PSYCHO) | B(S_LEGAL) | B(S_VOC), 30},
    {"by-crisis-room-brest", "BY", "BYN", "Brest", "ru", "+375162207741", "NGO",
     B(S_SHELTER) | B(S_CRISIS), 8},
    {"md-pragul-sperantei", "MD", "MDL", "Chișinău", "ro,ru", "+37322548801", "NGO",
     B(S_PSYCHO) | B(S_LEGAL) | B(S_GRANT), 40},
    {"md-casa-martisor", "MD", "MDL", "Bălți", "ro,ru", "+37323172210", "NGO",
     B(S_SHELTER) | B(S_PSYCHO) | B(S_MEDICAL), 16},
    {"md-sectia-antitrafic-cahul", "MD", "MDL", "Cahul", "ro", "+37329924455", "Police",
     B(S_INTERVIEW) | B(S_LEGAL), 0},
};
#define N_ORGS ((int)COUNT(orgs))
#define ORG_ALAS 0
#define ORG_MARTA 1
#define ORG_POLICE_EC 2

/* Where a country's organisations refer across the border. */
static const char *neighbour(const char *cc)
{
    static const char *const pairs[][2] = {{"EC", "CO"}, {"CO", "EC"}, {"PE", "EC"}, {"UA", "MD"},
                                           {"MD", "UA"}, {"BY", "UA"}, {"GT", ""}};
    for (size_t i = 0; i < COUNT(pairs); i++)
        if (strcmp(pairs[i][0], cc) == 0)
            return pairs[i][1];
    return "";
}

static int org_index(const char *id)
{
    for (int i = 0; i < N_ORGS; i++)
        if (id && strcmp(orgs[i].id, id) == 0)
            return i;
    return -1;
}

/* A currency amount of about `usd` dollars in the organisation's currency. */
static double money(const org_info *o, double usd)
{
    static const struct {
        const char *cur;
        double rate;
    } rates[] = {{"USD", 1},  {"PEN", 3.7}, {"COP", 4000}, {"GTQ", 7.8},
                 {"UAH", 41}, {"BYN", 3.3}, {"MDL", 17.7}};
    for (size_t i = 0; i < COUNT(rates); i++)
        if (strcmp(rates[i].cur, o->currency) == 0) {
            double v = usd * rates[i].rate;
            return rates[i].rate >= 1000 ? round(v / 1000) * 1000 : round(v * 100) / 100;
        }
    return round(usd * 100) / 100;
}

/* The principal of a demo organisation's staff member.  In the two
 * organisations tools/demo-users.sh gives accounts, the names match them. */
static principal staff(int org, uint32_t role)
{
    principal p = {.lang = "es", .roles = role};
    snprintf(p.org, sizeof p.org, "%s", orgs[org].id);
    snprintf(p.addr, sizeof p.addr, "demo-activity");
    const char *name = role == ROLE_CASEWORKER    ? "caseworker"
                       : role == ROLE_COORDINATOR ? "coordinator"
                       : role == ROLE_HOTLINE     ? "hotline"
                       : role == ROLE_SHELTER     ? "shelter"
                                                  : "orgadmin";
    if (org == ORG_ALAS)
        snprintf(p.actor, sizeof p.actor, "%s", name);
    else if (org == ORG_MARTA && role == ROLE_CASEWORKER)
        snprintf(p.actor, sizeof p.actor, "caseworker2");
    else if (org == ORG_MARTA && role == ROLE_SHELTER)
        snprintf(p.actor, sizeof p.actor, "shelter");
    else
        snprintf(p.actor, sizeof p.actor, "%s.%s", name, orgs[org].id);
    return p;
}

/* ==== the cases the stories are about ======================================= */

typedef struct {
    char id[40];
    char ref[32]; /* the case reference: a stable order of the cases */
    int org;      /* index in orgs[], or -1 */
    int reg;      /* registration date, days since the epoch */
    int age;      /* at registration, -1 unknown */
    bool woman;   /* prs_Gender Feminine */
    bool man;
    bool children; /* prs_NumberOfChildren > 0 */
    bool followup; /* cas_Status FollowUp */
    int floor;     /* the day after the latest date in the case (0: not read yet) */
    bool used;     /* already in a referral or an own-case story */
    bool decided;  /* has identification decisions */
    char cit[3];   /* first citizenship */
    bool in_stay;
    bool in_proceeding;
} dcase;

/* ==== stories and their actions ============================================== */

enum fate { F_PENDING, F_UNANSWERED, F_DECLINED, F_CANCELLED, F_ACCEPTED, F_COMPLETED };

typedef struct {
    int cs, from, to;
    unsigned services;
    bool emergency, cross;
    enum fate fate;
    int64_t t_send, t_answer, t_end;
    char id[40];
    bool ok; /* sent (consent allowed it) */
} ref_story;

typedef struct {
    int cs, ref, shelter;
    const char *kind;
    int64_t t_admit, t_discharge; /* 0: still there */
    char id[40];
    bool admitted, waiting;
    char discharged_on[11];
    const char *reason;
    bool child;             /* a child when admitted */
    bool goes_home;         /* leaves the shelter to return to their country */
    int return_to;          /* the receiving organisation there, or -1 (none in the demo) */
    char return_id[40];     /* the return record */
    int64_t return_version; /* its version */
} stay_story;

typedef struct {
    int cs, ref, org, provider, type;
    int64_t t_start, t_end; /* t_end 0: still in progress */
    double cost;
    char id[40];
    int64_t version;
} assist_story;

typedef struct {
    int cs;
    int64_t t_initial, t_conclusive; /* 0: none */
    bool initial_positive, conclusive_positive;
    bool ok;
} decision_story;

typedef struct {
    int cs, org, stay;
    int64_t t_start;
    double level; /* the first visit's scores, rising later */
    bool ok;
    int visits;
} plan_story;

typedef struct {
    int org;
    int64_t t;
} training_story;

typedef struct {
    int64_t t, t_repeat, t_case; /* 0: none */
    int situation;               /* index of the summary (what the caller told) */
    char id[40];
} contact_story;

/* A criminal proceeding opened after a positive identification: the complaint,
 * then later stages as far as the period reaches, sometimes to a verdict. */
#define MAX_STAGES 5
typedef struct {
    int cs, org;
    int64_t t_stage[MAX_STAGES]; /* Complaint, Investigation, Prosecution, Trial, Verdict */
    int nstages;                 /* planned */
    int done;                    /* recorded so far */
    bool conviction;
    char id[40], perpetrator[40];
    int64_t version;
} proceeding_story;

/* A follow-up reminder a caseworker sets on a case, done or still due. */
typedef struct {
    int cs, org;
    int64_t t_set, t_done; /* t_done 0: still open */
    int due_day;
    int note;
    char id[40];
} reminder_story;

enum kind {
    A_SEND,
    A_ANSWER,
    A_CANCEL,
    A_COMPLETE,
    A_ADMIT,
    A_DISCHARGE,
    A_ASSIST,
    A_ASSIST_END,
    A_DECIDE_INITIAL,
    A_DECIDE_CONCLUSIVE,
    A_PLAN,
    A_VISIT,
    A_TRAINING,
    A_CONTACT,
    A_REPEAT,
    A_OPEN_CASE,
    A_RETURN,
    A_RETURN_DONE,
    A_PROCEEDING_STAGE,
    A_REMIND,
    A_REMIND_DONE
};

typedef struct {
    int64_t at;
    uint32_t seq;
    uint16_t kind;
    uint32_t i;
} act;

typedef struct {
    core *c;
    rng r;
    int64_t now;
    int today;
    dcase *cases;
    size_t ncases;
    ref_story *refs;
    size_t nrefs;
    stay_story *stays;
    size_t nstays;
    assist_story *assists;
    size_t nassists;
    decision_story *decisions;
    size_t ndecisions;
    plan_story *plans;
    size_t nplans;
    training_story *trainings;
    size_t ntrainings;
    contact_story *contacts;
    size_t ncontacts;
    proceeding_story *proceedings;
    size_t nproceedings;
    reminder_story *reminders;
    size_t nreminders;
    act *acts;
    size_t nacts, capacts;
    char shelter_id[2][40];
    demo_activity_counts n;
} run;

#define GROW(arr, n)                                                                               \
    ((arr) = realloc((arr), ((n) + 1) * sizeof *(arr)), memset(&(arr)[(n)], 0, sizeof *(arr)),     \
     &(arr)[(n)++])

static void plan_act(run *R, int64_t at, enum kind k, size_t i)
{
    if (R->nacts == R->capacts) {
        R->capacts = R->capacts ? R->capacts * 2 : 256;
        R->acts = realloc(R->acts, R->capacts * sizeof *R->acts);
    }
    R->acts[R->nacts] = (act){at, (uint32_t)R->nacts, (uint16_t)k, (uint32_t)i};
    R->nacts++;
}

static int act_cmp(const void *a, const void *b)
{
    const act *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A moment of office hours (13:00–22:00 UTC: 08:00–17:00 in Ecuador) on `day`,
 * never later than a minute before now. */
static int64_t office_time(run *R, int day)
{
    int64_t t = (int64_t)day * DAY + (13 + rnd(&R->r, 9)) * HOUR + rnd(&R->r, 3600);
    if (t > R->now - 60)
        t = R->now - 60 - rnd(&R->r, 1800);
    return t;
}

/* t, or the next office hour after it when it falls outside them (emergencies
 * are answered at any hour). */
static int64_t office_after(const run *R, int64_t t)
{
    int64_t h = (t % DAY) / HOUR;
    if (h < 13)
        t += (13 - h) * HOUR;
    else if (h >= 22)
        t += (24 - h + 13) * HOUR;
    return t < R->now - 60 ? t : R->now - 60;
}

static void date_of(int64_t t, char out[11])
{
    char ts[32];
    clock_format(t, ts);
    memcpy(out, ts, 10);
    out[10] = 0;
}

/* Moves the clock to t: the core stamps and validates as at that moment. */
static void clock_at(int64_t t)
{
    char ts[32], d[11];
    clock_format(t, ts);
    clock_set_now(ts);
    date_of(t, d);
    clock_set_today(d);
}

/* Prefixes err's message with what was being done (the fields stay). */
static amp_code fail(amp_err *err, amp_code code, const char *what)
{
    char msg[sizeof err->message];
    snprintf(msg, sizeof msg, "%s", err->message);
    amp_err_set(err, code, "demo activity: %s: %s", what, msg);
    return code;
}

static bool is_consent_refusal(amp_code code, const amp_err *err)
{
    if (code != AMP_EINVALID || !err->fields)
        return false;
    size_t i;
    json_t *f;
    json_array_foreach (err->fields, i, f) {
        const char *rule = json_string_value(json_object_get(f, "rule"));
        if (!rule || !strstr(rule, "consent"))
            return false;
    }
    return json_array_size(err->fields) > 0;
}

static void copy_id(const json_t *o, char out[40])
{
    const char *s = json_string_value(json_object_get(o, "id"));
    snprintf(out, 40, "%s", s ? s : "");
}

static json_t *services_json(unsigned mask)
{
    json_t *a = json_array();
    for (int s = 0; s < S_COUNT; s++)
        if (mask & B(s))
            json_array_append_new(a, json_string(service_names[s]));
    return a;
}

/* ==== loading the cases ====================================================== */

static amp_code load_cases(run *R, amp_err *err)
{
    principal p = {.actor = "demo", .lang = "en", .internal = true};
    for (int offset = 0;; offset += 500) {
        char off[16];
        snprintf(off, sizeof off, "%d", offset);
        list_param params[] = {{"status", "Active,FollowUp"},
                               {"sort", "registered"},
                               {"limit", "500"},
                               {"offset", off}};
        json_t *out = NULL;
        amp_code code = cases_list(R->c, &p, params, COUNT(params), &out, err);
        if (code != AMP_OK)
            return fail(err, code, "listing the cases");
        json_t *items = json_object_get(out, "items");
        size_t i;
        json_t *it;
        json_array_foreach (items, i, it) {
            dcase *d = GROW(R->cases, R->ncases);
            copy_id(it, d->id);
            const char *ref = json_string_value(json_object_get(it, "reference"));
            snprintf(d->ref, sizeof d->ref, "%s", ref ? ref : "");
            d->org = org_index(json_string_value(json_object_get(it, "amp_OwnerOrganisation")));
            const char *reg = json_string_value(json_object_get(it, "amp_RegistrationDate"));
            d->reg = reg ? care_days(reg) : R->today - 400;
            json_t *age = json_object_get(it, "amp_AgeAtRegistration");
            d->age = json_is_integer(age) ? (int)json_integer_value(age) : -1;
            const char *g = json_string_value(json_object_get(it, "prs_Gender"));
            d->woman = g && strcmp(g, "Feminine") == 0;
            d->man = g && strcmp(g, "Masculine") == 0;
            d->children = json_integer_value(json_object_get(it, "prs_NumberOfChildren")) > 0;
            const char *st = json_string_value(json_object_get(it, "cas_Status"));
            d->followup = st && strcmp(st, "FollowUp") == 0;
            const char *cit =
                json_string_value(json_array_get(json_object_get(it, "prs_Citizenship"), 0));
            snprintf(d->cit, sizeof d->cit, "%s", cit ? cit : "");
        }
        size_t got = json_array_size(items);
        json_decref(out);
        if (got < 500)
            break;
    }
    return AMP_OK;
}

/* Oldest registration first; the reference decides between cases of a day, so
 * that the same demo data always gives the same order. */
static int case_cmp(const void *a, const void *b)
{
    const dcase *x = a, *y = b;
    if (x->reg != y->reg)
        return x->reg < y->reg ? -1 : 1;
    return strcmp(x->ref, y->ref);
}

/* The latest date written anywhere in a document (days), or INT32_MIN. */
static int latest_date(const json_t *v)
{
    int best = INT32_MIN;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strlen(s) == 10 && s[4] == '-' && s[7] == '-')
            best = care_days(s);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e) {
            int d = latest_date(e);
            best = d > best ? d : best;
        }
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach ((json_t *)v, k, e) {
            int d = latest_date(e);
            best = d > best ? d : best;
        }
    }
    return best;
}

/* The first day on which the case may be acted on: after its registration and
 * after every date it records (a support plan ended last month cannot be
 * validated on a day before that), since the core revalidates the case when
 * a referral or a decision updates it. */
static int case_floor(run *R, int cs)
{
    dcase *d = &R->cases[cs];
    if (d->floor)
        return d->floor;
    d->floor = d->reg + 1;
    /* the child records (support plans, events) hold the dates; they are
     * read from the store as they are kept, as no person's identity is needed */
    store_row row;
    json_t *children = NULL;
    if (store_case_get(core_store(R->c), d->id, &row, &children) == STORE_OK) {
        int last = latest_date(children);
        if (last >= d->floor)
            d->floor = last + 1;
        json_decref(children);
        store_row_release(&row);
    } else {
        d->floor = R->today + 1; /* unreadable: leave it alone */
    }
    return d->floor;
}

/* ==== planning ================================================================ */

static int period_start(const run *R)
{
    return R->today - PERIOD_DAYS;
}

/* The receiving organisation and services of a referral from `from`. */
static int pick_receiver(run *R, int from, bool *cross)
{
    const char *cc = orgs[from].country;
    const char *nb = neighbour(cc);
    int cand[N_ORGS];
    unsigned w[N_ORGS];
    int n = 0;
    *cross = nb[0] && chance(&R->r, 15);
    for (int i = 0; i < N_ORGS; i++) {
        if (i == from || strcmp(orgs[i].country, *cross ? nb : cc) != 0)
            continue;
        cand[n] = i;
        /* the shelter is where Ecuador's cases go most */
        w[n++] = i == ORG_MARTA ? 6 : (orgs[i].services & B(S_SHELTER)) ? 3 : 2;
    }
    if (!n)
        return -1;
    return cand[pick_w(&R->r, w, (unsigned)n)];
}

static unsigned pick_services(run *R, int to, const dcase *d)
{
    unsigned offered = orgs[to].services, mask = 0;
    if ((offered & B(S_SHELTER)) && (to == ORG_MARTA || chance(&R->r, 75)))
        mask |= B(S_SHELTER);
    int extra = mask ? (int)rnd(&R->r, 2) : 1 + (int)rnd(&R->r, 2);
    for (int k = 0; k < extra; k++) {
        int s = (int)rnd(&R->r, S_COUNT);
        for (int t = 0; t < S_COUNT && !(offered & B(s) & ~B(S_SHELTER)); t++)
            s = (s + 1) % S_COUNT;
        if (offered & B(s) & ~B(S_SHELTER))
            mask |= B(s);
    }
    if (!mask)
        mask = offered & -offered;
    (void)d;
    return mask;
}

static const char *place_kind(run *R, const dcase *d, int *shelter)
{
    *shelter = 0;
    if (d->age >= 0 && d->age < 18)
        return "Children";
    if (d->man) {
        *shelter = 1;
        return "Men";
    }
    if (d->children && chance(&R->r, 40))
        return "Families";
    if (chance(&R->r, 25))
        *shelter = 1;
    return "Women";
}

static void plan_stay(run *R, int cs, int ref, int64_t t_admit)
{
    dcase *d = &R->cases[cs];
    if (d->in_stay)
        return;
    d->in_stay = true;
    stay_story *s = GROW(R->stays, R->nstays);
    s->cs = cs;
    s->ref = ref;
    s->kind = place_kind(R, d, &s->shelter);
    s->t_admit = t_admit;
    int len = chance(&R->r, 30) ? rnd_range(&R->r, 3, 20) : rnd_range(&R->r, 21, 120);
    int64_t t_dis = office_time(R, (int)(t_admit / DAY) + len);
    if (t_dis < R->now - HOUR && t_dis > t_admit) {
        s->t_discharge = t_dis;
        bool child = d->age >= 0 && d->age < 18;
        static const char *const adult[] = {"FamilyReintegration", "FamilyReintegration",
                                            "IndependentLiving",   "IndependentLiving",
                                            "VoluntaryReturn",     "Transfer",
                                            "LeftOfOwnAccord",     "Other"};
        static const char *const minor[] = {"FamilyReintegration", "FamilyReintegration",
                                            "FamilyReintegration", "FosterFamily", "Transfer"};
        s->reason = child ? PICK(&R->r, minor) : PICK(&R->r, adult);
        s->child = child;
        if (chance(&R->r, 4))
            s->reason = "RulesBreach";
    }
    /* a foreigner often leaves the shelter to go home: a return, organised
     * with an organisation of the country of return */
    s->return_to = -1;
    s->goes_home = s->t_discharge && d->cit[0] && strcmp(d->cit, "EC") != 0 &&
                   s->t_discharge - 10 * DAY > s->t_admit && chance(&R->r, 60);
    if (s->goes_home) {
        for (int o = 0; o < N_ORGS && s->return_to < 0; o++)
            if (strcmp(orgs[o].country, d->cit) == 0)
                s->return_to = o;
        s->reason = s->child ? "FamilyReintegration" : "VoluntaryReturn";
        plan_act(R, s->t_discharge - rnd_range(&R->r, 4, 10) * DAY, A_RETURN, R->nstays - 1);
        plan_act(R, s->t_discharge + HOUR, A_RETURN_DONE, R->nstays - 1);
    }
    plan_act(R, s->t_admit, A_ADMIT, R->nstays - 1);
    if (s->t_discharge)
        plan_act(R, s->t_discharge, A_DISCHARGE, R->nstays - 1);
}

static void plan_assist(run *R, int cs, int ref, int org, int provider, int type, int64_t t_start,
                        int64_t t_end)
{
    assist_story *a = GROW(R->assists, R->nassists);
    a->cs = cs;
    a->ref = ref;
    a->org = org;
    a->provider = provider;
    a->type = type;
    a->t_start = t_start;
    a->t_end = t_end;
    static const double usd[S_COUNT] = {0,   180, 90, 60,  250, 0,   70, 120,
                                        300, 450, 80, 200, 650, 900, 40};
    double base = usd[type];
    a->cost = base > 0 ? money(&orgs[provider], base * (0.6 + rnd(&R->r, 80) / 100.0)) : 0;
    plan_act(R, t_start, A_ASSIST, R->nassists - 1);
    if (t_end)
        plan_act(R, t_end, A_ASSIST_END, R->nassists - 1);
}

static void plan_referral(run *R, int cs, int to_forced)
{
    dcase *d = &R->cases[cs];
    int start = period_start(R);
    int floor = case_floor(R, cs);
    int first = floor > start ? floor : start;
    if (first > R->today)
        return;
    bool cross = false;
    int to = to_forced >= 0 ? to_forced : pick_receiver(R, d->org, &cross);
    if (to < 0)
        return;
    int day = floor >= start ? first + (int)rnd(&R->r, 20) : first + (int)rnd(&R->r, PERIOD_DAYS);
    if (day > R->today)
        day = R->today;
    d->used = true;
    ref_story *f = GROW(R->refs, R->nrefs);
    size_t fi = R->nrefs - 1;
    f->cs = cs;
    f->from = d->org;
    f->to = to;
    f->cross = cross;
    f->services = pick_services(R, to, d);
    f->emergency = chance(&R->r, 15);
    f->t_send = office_time(R, day);
    int64_t age_h = (R->now - f->t_send) / HOUR;
    unsigned x = rnd(&R->r, 100);
    if (age_h < 30)
        f->fate = x < 65 ? F_PENDING : F_ACCEPTED;
    else
        f->fate = x < 8    ? F_UNANSWERED
                  : x < 20 ? F_DECLINED
                  : x < 27 ? F_CANCELLED
                  : x < 58 ? F_ACCEPTED
                           : F_COMPLETED;
    int64_t wait_h = f->emergency        ? rnd_range(&R->r, 1, 20)
                     : chance(&R->r, 15) ? rnd_range(&R->r, 170, 260) /* late */
                                         : rnd_range(&R->r, 2, 120);
    if (f->fate == F_CANCELLED)
        wait_h = rnd_range(&R->r, 4, 72);
    f->t_answer = f->t_send + wait_h * HOUR + rnd(&R->r, 3600);
    if (!f->emergency)
        f->t_answer = office_after(R, f->t_answer);
    if (f->fate >= F_DECLINED && f->t_answer >= R->now - 60)
        f->fate = age_h < 30 ? F_PENDING : F_UNANSWERED;
    if (f->fate == F_COMPLETED) {
        f->t_end = office_after(R, f->t_answer + rnd_range(&R->r, 5, 60) * DAY);
        if (f->t_end >= R->now - 60)
            f->fate = F_ACCEPTED;
    }
    plan_act(R, f->t_send, A_SEND, fi);
    if (f->fate == F_CANCELLED)
        plan_act(R, f->t_answer, A_CANCEL, fi);
    if (f->fate >= F_DECLINED && f->fate != F_CANCELLED)
        plan_act(R, f->t_answer, A_ANSWER, fi);
    if (f->fate == F_COMPLETED)
        plan_act(R, f->t_end, A_COMPLETE, fi);
    if (f->fate < F_ACCEPTED)
        return;
    /* what the receiver does once it has accepted */
    int64_t t0 = f->t_answer + rnd_range(&R->r, 2, 30) * HOUR;
    if (!f->emergency)
        t0 = office_after(R, t0);
    if (t0 >= R->now - 60)
        t0 = R->now - 60;
    for (int s = 0; s < S_COUNT; s++) {
        if (!(f->services & B(s)))
            continue;
        if (s == S_SHELTER && to == ORG_MARTA) {
            plan_stay(R, cs, (int)fi, t0);
        } else if (s != S_SHELTER) {
            int64_t t_end = f->fate == F_COMPLETED ? f->t_end - rnd(&R->r, 3 * DAY) : 0;
            if (t_end && t_end <= t0)
                t_end = 0;
            plan_assist(R, cs, (int)fi, to, to, s, t0, t_end);
        }
    }
}

static void plan_referrals(run *R, size_t total_cases)
{
    /* about 3.5 % of the cases referred; about half the attempts are refused
     * for consent (no Referral scope, a child without guardian consent) */
    size_t want = total_cases * 35 / 1000 * 2;
    if (want < 24)
        want = 24;
    /* a shuffled order of the cases that may be referred */
    size_t *order = malloc((R->ncases + 1) * sizeof *order);
    size_t n = 0;
    for (size_t i = 0; i < R->ncases; i++)
        if (R->cases[i].org >= 0)
            order[n++] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd(&R->r, (uint32_t)i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    /* the shelter's inbox first: Ecuador's other organisations refer to it */
    size_t to_shelter = want / 8 > 8 ? want / 8 : 8;
    for (size_t k = 0; k < n && R->nrefs < to_shelter; k++) {
        const dcase *d = &R->cases[order[k]];
        if (strcmp(orgs[d->org].country, "EC") == 0 && d->org != ORG_MARTA)
            plan_referral(R, (int)order[k], ORG_MARTA);
    }
    for (size_t k = 0; k < n && R->nrefs < want; k++)
        if (!R->cases[order[k]].used)
            plan_referral(R, (int)order[k], -1);
    free(order);
}

/* The shelter admits some of its own organisation's new cases directly. */
static void plan_own_stays(run *R)
{
    int start = period_start(R);
    for (size_t i = 0; i < R->ncases; i++) {
        dcase *d = &R->cases[i];
        if (d->org != ORG_MARTA || d->used || d->in_stay || d->followup || !chance(&R->r, 60))
            continue;
        d->used = true;
        int day = d->reg >= start ? d->reg + (int)rnd(&R->r, 2)
                                  : start + (int)rnd(&R->r, PERIOD_DAYS - 10);
        plan_stay(R, (int)i, -1, office_time(R, day));
    }
    /* a small demo still shows a few stays: follow-up cases too, if need be */
    for (size_t i = R->ncases; i-- > 0 && R->nstays < 4;) {
        dcase *d = &R->cases[i];
        if (d->org != ORG_MARTA || d->in_stay)
            continue;
        d->used = true;
        plan_stay(R, (int)i, -1, office_time(R, R->today - rnd_range(&R->r, 5, 60)));
    }
    /* and somebody is in the shelter today: the latest admissions stay on */
    size_t ongoing = 0;
    for (size_t i = 0; i < R->nstays; i++)
        ongoing += R->stays[i].t_discharge == 0;
    for (size_t i = R->nstays; i-- > 0 && ongoing < 2;) {
        stay_story *st = &R->stays[i];
        if (st->t_discharge && !st->goes_home) {
            st->t_discharge = 0; /* its planned discharge action does nothing */
            st->reason = NULL;
            ongoing++;
        }
    }
}

static void plan_own_assistance(run *R, size_t total_cases)
{
    size_t want = total_cases / 60 + 4, done = 0;
    int start = period_start(R);
    static const int types[] = {S_MEDICAL,   S_PSYCHO, S_PSYCHO, S_LEGAL,  S_DOCS,
                                S_EDU,       S_INCOME, S_GRANT,  S_CRISIS, S_VOC,
                                S_INTERVIEW, S_FTRACE, S_INTERP};
    for (size_t i = 0; i < R->ncases && done < want; i++) {
        dcase *d = &R->cases[i];
        if (d->org < 0 || d->used || !chance(&R->r, 25))
            continue;
        int first = d->reg > start ? d->reg : start + (int)rnd(&R->r, 60);
        if (first > R->today - 1)
            continue;
        int day = first + (int)rnd(&R->r, (uint32_t)(R->today - first));
        int64_t t0 = office_time(R, day);
        int type = PICK(&R->r, types);
        int n = 1 + (int)rnd(&R->r, 2);
        for (int k = 0; k < n; k++) {
            int64_t t_end = t0 + rnd_range(&R->r, 1, 90) * DAY;
            if (type == S_INTERVIEW || type == S_CRISIS)
                t_end = t0 + rnd_range(&R->r, 1, 4) * HOUR;
            if (t_end >= R->now - 60 || chance(&R->r, 15))
                t_end = 0;
            plan_assist(R, (int)i, -1, d->org, d->org, type, t0, t_end);
            type = PICK(&R->r, types);
            t0 += rnd_range(&R->r, 1, 10) * DAY;
            if (t0 >= R->now - 60)
                break;
        }
        done++;
    }
}

static void plan_decisions(run *R, size_t total_cases)
{
    size_t want = total_cases / 100 + 6;
    int start = period_start(R);
    /* Ecuador's organisations first (the office the demo is about), newest first */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = R->ncases; i-- > 0 && R->ndecisions < want;) {
            dcase *d = &R->cases[i];
            if (d->org < 0 || d->decided ||
                (pass == 0) != (strcmp(orgs[d->org].country, "EC") == 0) || d->reg < start ||
                d->reg > R->today - 2 || !chance(&R->r, pass == 0 ? 90 : 70))
                continue;
            d->decided = true;
            int floor = case_floor(R, (int)i);
            if (floor > R->today - 1)
                continue;
            decision_story *s = GROW(R->decisions, R->ndecisions);
            s->cs = (int)i;
            int day = d->reg + rnd_range(&R->r, 1, 6);
            s->t_initial = office_time(R, day > floor ? day : floor);
            s->initial_positive = chance(&R->r, 88);
            plan_act(R, s->t_initial, A_DECIDE_INITIAL, R->ndecisions - 1);
            if (s->initial_positive) {
                int64_t t =
                    office_time(R, (int)(s->t_initial / DAY) + 30 + rnd_range(&R->r, 2, 12));
                if (t > s->t_initial && t < R->now - HOUR) {
                    s->t_conclusive = t;
                    s->conclusive_positive = chance(&R->r, 82);
                    plan_act(R, t, A_DECIDE_CONCLUSIVE, R->ndecisions - 1);
                }
            }
        }
}

/* About a third of the positive identifications lead to a complaint; each later
 * stage follows weeks or months after the one before, until the period ends. */
/* The stages of a proceeding on case cs whose complaint comes a few days after
 * `day`, each later one weeks or months (times `slow`) after the one before, as
 * far as the period reaches. */
static void plan_stages(run *R, int cs, int day, int slow)
{
    static const int gap_days[MAX_STAGES][2] = {{3, 20}, {10, 40}, {30, 70}, {30, 80}, {1, 30}};
    proceeding_story *pr = GROW(R->proceedings, R->nproceedings);
    pr->cs = cs;
    pr->org = R->cases[cs].org;
    pr->conviction = chance(&R->r, 70);
    for (int k = 0; k < MAX_STAGES; k++) {
        day += rnd_range(&R->r, gap_days[k][0], gap_days[k][1]) * (k ? slow : 1);
        int64_t t = office_time(R, day);
        if (day > R->today || t >= R->now - HOUR || (k > 0 && t <= pr->t_stage[k - 1]))
            break;
        pr->t_stage[k] = t;
        pr->nstages = k + 1;
        plan_act(R, t, A_PROCEEDING_STAGE, R->nproceedings - 1);
    }
    if (!pr->nstages)
        R->nproceedings--;
}

/* Proceedings after about a third of the positive identifications of the
 * period, and older ones (cases registered one to three years ago, the
 * complaint soon after) that have had time to reach a trial or a verdict. */
static void plan_proceedings(run *R)
{
    size_t recent = 0;
    for (size_t i = 0; i < R->ndecisions; i++) {
        const decision_story *s = &R->decisions[i];
        if (!s->initial_positive || !chance(&R->r, 35))
            continue;
        R->cases[s->cs].in_proceeding = true;
        plan_stages(R, s->cs, (int)(s->t_initial / DAY), 1);
        recent++;
    }
    size_t want = recent + 6;
    for (size_t i = 0; i < R->ncases && R->nproceedings < want; i++) {
        dcase *d = &R->cases[i];
        if (d->org < 0 || d->in_proceeding || strcmp(orgs[d->org].country, "EC") != 0 ||
            d->reg < R->today - 3 * 365 || d->reg > R->today - 365 || !chance(&R->r, 10))
            continue;
        d->in_proceeding = true;
        plan_stages(R, (int)i, d->reg + rnd_range(&R->r, 5, 40), 3);
    }
}

static const char *const reminder_notes[] = {
    "Call to confirm the medical appointment", "Check school enrolment of the children",
    "Follow up on the identity documents",     "Ask the shelter how the first week went",
    "Prepare the statement with the lawyer",   "Confirm the date of the family visit",
};

/* Reminders on some of the cases the office worked on: most set a week or two
 * ahead and done, the latest still due (some overdue). */
static void plan_reminders(run *R, size_t total_cases)
{
    size_t want = total_cases / 150 + 8;
    int start = period_start(R);
    for (size_t i = R->ncases; i-- > 0 && R->nreminders < want;) {
        const dcase *d = &R->cases[i];
        if (d->org < 0 || !(d->used || d->decided) || !chance(&R->r, 60))
            continue;
        int floor = case_floor(R, (int)i);
        int from = floor > start ? floor : start;
        if (from > R->today - 1)
            continue;
        reminder_story *m = GROW(R->reminders, R->nreminders);
        m->cs = (int)i;
        m->org = d->org;
        m->note = (int)rnd((&R->r), COUNT(reminder_notes));
        int set = rnd_range(&R->r, from, R->today - 1);
        m->t_set = office_time(R, set);
        m->due_day = set + rnd_range(&R->r, 3, 20);
        plan_act(R, m->t_set, A_REMIND, R->nreminders - 1);
        int done_day = m->due_day + rnd_range(&R->r, -2, 3);
        int64_t t_done = office_time(R, done_day > set ? done_day : set + 1);
        if (done_day <= R->today && t_done < R->now - HOUR && chance(&R->r, 85)) {
            m->t_done = t_done;
            plan_act(R, t_done, A_REMIND_DONE, R->nreminders - 1);
        }
    }
}

static void plan_visits(run *R, size_t pi)
{
    plan_story *pl = &R->plans[pi];
    plan_act(R, pl->t_start, A_PLAN, pi);
    int day = (int)(pl->t_start / DAY) + 2;
    for (int k = 0; k < 6 && day <= R->today; k++) {
        plan_act(R, office_time(R, day), A_VISIT, pi);
        day += 30 + rnd_range(&R->r, -4, 6);
    }
}

static void plan_reintegration(run *R, size_t total_cases)
{
    /* after a discharge home or to independent living, the shelter follows up */
    for (size_t i = 0; i < R->nstays; i++) {
        stay_story *s = &R->stays[i];
        if (!s->t_discharge || !s->reason ||
            (strcmp(s->reason, "FamilyReintegration") && strcmp(s->reason, "IndependentLiving") &&
             strcmp(s->reason, "FosterFamily")) ||
            s->t_discharge > R->now - 5 * DAY)
            continue;
        plan_story *pl = GROW(R->plans, R->nplans);
        pl->cs = s->cs;
        pl->org = ORG_MARTA;
        pl->stay = (int)i;
        pl->t_start = office_time(R, (int)(s->t_discharge / DAY) + 1);
        pl->level = 0.3 + rnd(&R->r, 25) / 100.0;
        plan_visits(R, R->nplans - 1);
    }
    /* and the Quito NGO follows some of its older cases */
    size_t want = total_cases / 800 + 3, done = 0;
    for (size_t i = 0; i < R->ncases && done < want; i++) {
        dcase *d = &R->cases[i];
        if (d->org != ORG_ALAS || d->used || !d->followup || d->reg > R->today - 60 ||
            !chance(&R->r, 50))
            continue;
        d->used = true;
        plan_story *pl = GROW(R->plans, R->nplans);
        pl->cs = (int)i;
        pl->org = ORG_ALAS;
        pl->stay = -1;
        int first = d->reg + 30 > period_start(R) ? d->reg + 30 : period_start(R);
        pl->t_start = office_time(R, first + (int)rnd(&R->r, 30));
        pl->level = 0.35 + rnd(&R->r, 30) / 100.0;
        plan_visits(R, R->nplans - 1);
        done++;
    }
}

static void plan_trainings(run *R, size_t total_cases)
{
    static const int organisers[] = {ORG_ALAS, ORG_ALAS, ORG_POLICE_EC, ORG_MARTA, 3, 5, 6, 7};
    size_t n = total_cases / 400 + 6;
    if (n > 24)
        n = 24;
    for (size_t i = 0; i < n; i++) {
        training_story *t = GROW(R->trainings, R->ntrainings);
        t->org = organisers[i % COUNT(organisers)];
        t->t = office_time(R, period_start(R) + (int)rnd(&R->r, PERIOD_DAYS));
        plan_act(R, t->t, A_TRAINING, i);
    }
}

static void plan_contacts(run *R, size_t total_cases)
{
    size_t n = total_cases / 120 + 15;
    for (size_t i = 0; i < n; i++) {
        contact_story *k = GROW(R->contacts, R->ncontacts);
        int day = period_start(R) + (int)rnd(&R->r, PERIOD_DAYS + 1);
        k->t = (int64_t)day * DAY + rnd(&R->r, 86400); /* a hotline answers day and night */
        if (k->t > R->now - 60)
            k->t = R->now - 60 - rnd(&R->r, 7200);
        plan_act(R, k->t, A_CONTACT, i);
        if (i < 2 || chance(&R->r, 18)) { /* even a small demo has a case opened */
            k->t_case = k->t + rnd_range(&R->r, 1, 6) * HOUR;
            if (k->t_case < R->now - 60)
                plan_act(R, k->t_case, A_OPEN_CASE, i);
            else
                k->t_case = 0;
        }
        if (chance(&R->r, 15)) {
            k->t_repeat = k->t + rnd_range(&R->r, 1, 8) * DAY;
            if (k->t_repeat < R->now - 60)
                plan_act(R, k->t_repeat, A_REPEAT, i);
            else
                k->t_repeat = 0;
        }
    }
}

/* ==== replaying: the core calls ============================================== */

static amp_code run_directory(run *R, amp_err *err)
{
    static const char *const hours[] = {"Lunes a viernes 08:00-17:00", "24 horas, todos los días",
                                        "Lunes a sábado 08:30-18:00"};
    for (int i = 0; i < N_ORGS; i++) {
        const org_info *o = &orgs[i];
        principal p = staff(i, ROLE_ORGADMIN);
        json_t *langs = json_array();
        char buf[32];
        snprintf(buf, sizeof buf, "%s", o->langs);
        for (char *s = strtok(buf, ","); s; s = strtok(NULL, ","))
            json_array_append_new(langs, json_string(s));
        bool shelter = o->services & B(S_SHELTER);
        json_t *body = json_pack(
            "{s:o, s:[s], s:o, s:s, s:s, s:b, s:[ss], s:s, s:s}", "services",
            services_json(o->services), "regions", o->region, "languages", langs, "availability",
            shelter && i != ORG_MARTA && chance(&R->r, 30) ? "Limited" : "Available", "hours",
            hours[shelter ? 1 : rnd(&R->r, 2) * 2], "accepts_emergency",
            shelter || (o->services & B(S_CRISIS)) != 0, "age_groups", "Adults", "Children",
            "contact_phone", o->phone, "contact_name", "Punto focal de derivaciones");
        if (o->capacity) {
            json_object_set_new(body, "capacity", json_integer(o->capacity));
            json_object_set_new(body, "available_places",
                                json_integer(o->capacity / 4 + rnd(&R->r, o->capacity / 3 + 1)));
        }
        json_t *out = NULL;
        bool created = false;
        amp_code code = directory_put(R->c, &p, o->id, body, 0, &out, &created, err);
        json_decref(body);
        json_decref(out);
        if (code != AMP_OK)
            return fail(err, code, "a directory entry");
        R->n.directory++;
    }
    return AMP_OK;
}

static amp_code wait_result(care_wait *w, amp_code code, json_t **out, amp_err *err)
{
    return care_wait_end(w, code, out, err);
}

static amp_code run_shelters(run *R, amp_err *err)
{
    principal p = staff(ORG_MARTA, ROLE_SHELTER);
    json_t *bodies[2];
    bodies[0] =
        json_pack("{s:s, s:{s:i, s:i, s:i}, s:{s:f, s:f, s:f}, s:s, s:s, s:s, s:s, s:s, s:s, "
                  "s:[ssss], s:[s], s:s}",
                  "name", "Casa de Acogida Santa Marta", "capacity", "Women", 12, "Children", 6,
                  "Families", 2, "cost_per_night", "Women", 18.5, "Children", 22.0, "Families",
                  31.0, "currency", "USD", "country", "EC", "region", "Guayas", "city", "Guayaquil",
                  "address", "Dirección reservada (se comunica solo a la red de derivación)",
                  "contact", "+59342390516", "services", "Psychosocial", "Medical", "Education",
                  "FamilySupport", "supported_by", "ec-fundacion-alas", "opened_on", "2016-03-08");
    bodies[1] = json_pack("{s:s, s:{s:i, s:i}, s:{s:f, s:f}, s:s, s:s, s:s, s:s, s:[sss], s:s}",
                          "name", "Casa de Paso Durán", "capacity", "Women", 4, "Men", 3,
                          "cost_per_night", "Women", 15.0, "Men", 15.0, "currency", "USD",
                          "country", "EC", "region", "Guayas", "city", "Durán", "services",
                          "Psychosocial", "Legal", "Employment", "opened_on", "2021-09-15");
    amp_code code = AMP_OK;
    for (int i = 0; i < 2 && code == AMP_OK; i++) {
        json_t *out = NULL;
        care_wait *w = care_wait_new();
        code =
            wait_result(w, shelters_create(R->c, &p, bodies[i], care_wait_done, w, err), &out, err);
        if (code == AMP_OK) {
            copy_id(out, R->shelter_id[i]);
            R->n.shelters++;
        }
        json_decref(out);
    }
    json_decref(bodies[0]);
    json_decref(bodies[1]);
    return code == AMP_OK ? AMP_OK : fail(err, code, "a shelter");
}

static const char *const ref_notes[] = {
    "Requiere acompañamiento inmediato; la persona aceptó la derivación en entrevista.",
    "Se adjunta resumen de la entrevista inicial. Contactar al punto focal antes de la visita.",
    "Persona con temor a represalias; coordinar horarios con el equipo psicosocial.",
    "Solicitamos continuidad del acompañamiento iniciado en nuestra oficina.",
    "Necesita apoyo legal para su denuncia y orientación sobre sus derechos."};

static amp_code do_send(run *R, ref_story *f, amp_err *err)
{
    principal p = staff(f->from, ROLE_CASEWORKER);
    json_t *body = json_pack(
        "{s:s, s:s, s:o, s:s, s:s, s:s}", "case", R->cases[f->cs].id, "to_org", orgs[f->to].id,
        "services", services_json(f->services), "urgency", f->emergency ? "Emergency" : "Standard",
        "reason", f->cross ? "MigrationOrChangeOfLocation" : "AdditionalServicesRequired", "notes",
        PICK(&R->r, ref_notes));
    json_t *out = NULL;
    amp_code code = referrals_send(R->c, &p, body, &out, err);
    json_decref(body);
    if (code == AMP_OK) {
        copy_id(out, f->id);
        f->ok = true;
        R->n.referrals++;
    } else if (is_consent_refusal(code, err)) {
        R->n.refused_consent++;
        amp_err_clear(err);
        code = AMP_OK;
    } else {
        code = fail(err, code, "sending a referral");
    }
    json_decref(out);
    return code;
}

static amp_code do_transition(run *R, ref_story *f, enum kind k, amp_err *err)
{
    json_t *out = NULL, *body = NULL;
    amp_code code;
    if (k == A_CANCEL) {
        static const char *const why[] = {"NoLongerNeeded", "PersonWithdrew", "ReferredElsewhere",
                                          "SentInError"};
        principal p = staff(f->from, ROLE_CASEWORKER);
        body = json_pack("{s:s}", "reason", PICK(&R->r, why));
        code = referrals_cancel(R->c, &p, f->id, body, 0, &out, err);
        R->n.cancelled += code == AMP_OK;
    } else if (k == A_ANSWER && f->fate == F_DECLINED) {
        static const char *const why[] = {"NoCapacity",        "NoCapacity",
                                          "ServiceNotOffered", "OutsideArea",
                                          "NotEligible",       "InsufficientInformation",
                                          "DuplicateReferral"};
        static const char *const details[] = {
            "Sin plazas disponibles esta semana; sugerimos volver a derivar en 15 días.",
            "El servicio solicitado no está disponible en nuestra sede.",
            "Falta información de contacto y la valoración de riesgo."};
        principal p = staff(f->to, ROLE_CASEWORKER);
        body = json_pack("{s:s, s:s}", "reason", PICK(&R->r, why), "details", PICK(&R->r, details));
        code = referrals_decline(R->c, &p, f->id, body, 0, &out, err);
        R->n.declined += code == AMP_OK;
    } else if (k == A_ANSWER) {
        principal p = staff(f->to, ROLE_CASEWORKER);
        code = referrals_accept(R->c, &p, f->id, NULL, 0, &out, err);
        R->n.accepted += code == AMP_OK;
    } else {
        static const char *const outcome[] = {"ServicesProvided",       "ServicesProvided",
                                              "ServicesProvided",       "PartiallyProvided",
                                              "PersonDeclinedServices", "LostContact"};
        principal p = staff(f->to, ROLE_CASEWORKER);
        body = json_pack("{s:s}", "outcome", PICK(&R->r, outcome));
        code = referrals_complete(R->c, &p, f->id, body, 0, &out, err);
        if (code == AMP_OK) {
            R->n.completed++;
            R->n.accepted--; /* counted once, by its final state */
        }
    }
    json_decref(body);
    json_decref(out);
    return code == AMP_OK ? AMP_OK : fail(err, code, "answering a referral");
}

static amp_code do_admit(run *R, stay_story *s, amp_err *err)
{
    if (s->ref >= 0 && !R->refs[s->ref].ok)
        return AMP_OK;
    principal p = staff(ORG_MARTA, ROLE_SHELTER);
    char on[11], planned[11];
    date_of(s->t_admit, on);
    date_of(s->t_admit + rnd_range(&R->r, 30, 90) * DAY, planned);
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s, s:b}", "case", R->cases[s->cs].id, "place_kind", s->kind,
                  "admitted_on", on, "planned_discharge", planned, "waiting_list", true);
    if (s->ref >= 0)
        json_object_set_new(body, "referred_by", json_string(orgs[R->refs[s->ref].from].id));
    json_t *out = NULL;
    care_wait *w = care_wait_new();
    amp_code code = wait_result(
        w, stays_admit(R->c, &p, R->shelter_id[s->shelter], body, care_wait_done, w, err), &out,
        err);
    json_decref(body);
    if (code == AMP_OK) {
        copy_id(out, s->id);
        const char *st = json_string_value(json_object_get(out, "status"));
        s->admitted = st && strcmp(st, "Admitted") == 0;
        s->waiting = st && strcmp(st, "Waiting") == 0;
    }
    json_decref(out);
    return code == AMP_OK ? AMP_OK : fail(err, code, "admitting to a shelter");
}

static bool fits(const dcase *d, const char *kind)
{
    bool child = d->age >= 0 && d->age < 18;
    if (strcmp(kind, "Children") == 0)
        return child;
    if (child)
        return false;
    if (strcmp(kind, "Men") == 0)
        return d->man;
    if (strcmp(kind, "Families") == 0)
        return d->woman && d->children;
    return !d->man;
}

/* A shelter the network relies on is rarely without a waiting list: when the
 * period ends with none, the fullest kind of place takes the shelter's last
 * requests of the day until one has to wait. */
static amp_code fill_to_waiting(run *R, amp_err *err)
{
    for (size_t i = 0; i < R->nstays; i++)
        if (R->stays[i].waiting)
            return AMP_OK;
    principal p = staff(ORG_MARTA, ROLE_SHELTER);
    int best_sh = -1;
    const char *best_kind = NULL;
    json_int_t best_free = 0;
    for (int sh = 0; sh < 2; sh++) {
        json_t *out = NULL;
        amp_code code = shelters_get(R->c, &p, R->shelter_id[sh], &out, err);
        if (code != AMP_OK)
            return fail(err, code, "reading a shelter");
        const char *kind;
        json_t *v;
        json_object_foreach (json_object_get(out, "free"), kind, v) {
            json_int_t free_places = json_integer_value(v);
            size_t fitting = 0;
            for (size_t i = 0; i < R->ncases; i++)
                fitting += R->cases[i].org == ORG_MARTA && !R->cases[i].in_stay &&
                           fits(&R->cases[i], kind);
            if ((json_int_t)fitting > free_places && (!best_kind || free_places < best_free)) {
                best_sh = sh;
                best_kind = strcmp(kind, "Women") == 0      ? "Women"
                            : strcmp(kind, "Men") == 0      ? "Men"
                            : strcmp(kind, "Children") == 0 ? "Children"
                                                            : "Families";
                best_free = free_places;
            }
        }
        json_decref(out);
    }
    if (!best_kind)
        return AMP_OK;
    int64_t t = R->now - 4 * HOUR;
    for (size_t i = R->ncases; i-- > 0;) {
        dcase *d = &R->cases[i];
        if (d->org != ORG_MARTA || d->in_stay || !fits(d, best_kind))
            continue;
        d->in_stay = true;
        stay_story *st = GROW(R->stays, R->nstays);
        st->cs = (int)i;
        st->ref = -1;
        st->return_to = -1;
        st->shelter = best_sh;
        st->kind = best_kind;
        st->t_admit = t;
        t += 20 * 60;
        clock_at(st->t_admit);
        amp_code code = do_admit(R, st, err);
        if (code != AMP_OK || st->waiting)
            return code;
    }
    return AMP_OK;
}

static amp_code do_discharge(run *R, stay_story *s, amp_err *err)
{
    if (!s->admitted || !s->t_discharge)
        return AMP_OK;
    principal p = staff(ORG_MARTA, ROLE_SHELTER);
    date_of(s->t_discharge, s->discharged_on);
    json_t *body =
        json_pack("{s:s, s:s}", "discharged_on", s->discharged_on, "discharge_reason", s->reason);
    json_t *out = NULL;
    care_wait *w = care_wait_new();
    amp_code code =
        wait_result(w, stays_discharge(R->c, &p, s->id, body, care_wait_done, w, err), &out, err);
    json_decref(body);
    json_decref(out);
    if (code != AMP_OK)
        return fail(err, code, "discharging from a shelter");
    s->admitted = false;
    R->n.discharged++;
    /* the place goes to the first person waiting for one of its kind */
    stay_story *next = NULL;
    for (size_t i = 0; i < R->nstays; i++) {
        stay_story *x = &R->stays[i];
        if (x->waiting && x->shelter == s->shelter && strcmp(x->kind, s->kind) == 0 &&
            (!next || x->t_admit < next->t_admit))
            next = x;
    }
    if (!next)
        return AMP_OK;
    body = json_pack("{s:s}", "admitted_on", s->discharged_on);
    out = NULL;
    w = care_wait_new();
    code = wait_result(w, stays_admit_waiting(R->c, &p, next->id, body, care_wait_done, w, err),
                       &out, err);
    json_decref(body);
    json_decref(out);
    if (code != AMP_OK)
        return fail(err, code, "admitting from the waiting list");
    next->waiting = false;
    next->admitted = true;
    return AMP_OK;
}

/* A return home after a shelter stay: planned some days before, completed on
 * the day of the discharge.  The core checks the consent to the cross-border
 * hand-over; without it the person is not returned through this network. */
static amp_code do_return(run *R, stay_story *s, bool done, int64_t at, amp_err *err)
{
    if (done ? !s->return_id[0] : !s->admitted)
        return AMP_OK;
    const dcase *d = &R->cases[s->cs];
    bool child = d->age >= 0 && d->age < 18;
    principal p = staff(ORG_MARTA, ROLE_CASEWORKER);
    char dep[11];
    date_of(s->t_discharge, dep);
    json_t *body, *out = NULL;
    care_wait *w = care_wait_new();
    amp_code code;
    if (!done) {
        body = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:b, s:s}", "type",
            child ? "ReturnAndReunification" : "VoluntaryReturn", "status", "Planned",
            "departure_country", "EC", "departure_city", "Guayaquil", "destination_country", d->cit,
            "departure_date", dep, "escort", child ? "CaseWorker" : "None", "travel_documents",
            child ? "TravelAuthorisationForMinor" : "Passport", "travel_documents_ready", true,
            "risk_level", chance(&R->r, 70) ? "Low" : "Medium");
        if (s->return_to >= 0)
            json_object_set_new(body, "receiving_org", json_string(orgs[s->return_to].id));
        if (child) {
            char traced[11];
            date_of(s->t_admit + (at - s->t_admit) / 2, traced);
            json_object_set_new(body, "family_tracing", json_string("FamilyFound"));
            json_object_set_new(body, "family_tracing_date", json_string(traced));
        }
        code = wait_result(w, returns_create(R->c, &p, d->id, body, care_wait_done, w, err), &out,
                           err);
        if (code == AMP_OK) {
            copy_id(out, s->return_id);
            s->return_version = json_integer_value(json_object_get(out, "version"));
        } else if (is_consent_refusal(code, err)) {
            amp_err_clear(err);
            code = AMP_OK;
        }
    } else {
        body = json_pack("{s:s, s:s}", "status", "Completed", "arrival_date", dep);
        if (child) {
            json_object_set_new(body, "reunification_date", json_string(dep));
            json_object_set_new(body, "reunified_with", json_pack("[s]", "Parents"));
        }
        code = wait_result(w,
                           returns_update(R->c, &p, d->id, s->return_id, body, s->return_version,
                                          care_wait_done, w, err),
                           &out, err);
        R->n.returns += code == AMP_OK;
    }
    json_decref(body);
    json_decref(out);
    return code == AMP_OK ? AMP_OK : fail(err, code, "a return home");
}

static amp_code do_assist(run *R, assist_story *a, bool end, amp_err *err)
{
    if (a->ref >= 0 && !R->refs[a->ref].ok)
        return AMP_OK;
    if (end && !a->id[0])
        return AMP_OK;
    principal p = staff(a->org, ROLE_CASEWORKER);
    const char *cs = R->cases[a->cs].id;
    json_t *out = NULL, *body;
    amp_code code;
    char d0[11], d1[11];
    date_of(a->t_start, d0);
    if (!end) {
        body = json_pack("{s:s, s:s, s:s, s:s}", "type", service_names[a->type], "provider_org",
                         orgs[a->provider].id, "start_date", d0, "status", "InProgress");
        if (a->t_end) {
            date_of(a->t_end, d1);
            json_object_set_new(body, "planned_end_date", json_string(d1));
        }
        if (a->ref >= 0)
            json_object_set_new(body, "referral", json_string(R->refs[a->ref].id));
        if (a->cost > 0) {
            json_object_set_new(body, "cost", json_real(a->cost));
            json_object_set_new(body, "currency", json_string(orgs[a->provider].currency));
        }
        if (a->type == S_INTERVIEW)
            json_object_set_new(body, "interview_checklist",
                                json_pack("{s:b, s:b, s:b, s:b, s:b}", "InformedOfRights", true,
                                          "ConsentToInterview", true, "SafePrivateSpace", true,
                                          "InterpreterOffered", chance(&R->r, 60),
                                          "NoRepeatedQuestioning", true));
        code = assistance_create(R->c, &p, cs, body, &out, err);
        if (code == AMP_OK) {
            copy_id(out, a->id);
            a->version = json_integer_value(json_object_get(out, "version"));
            R->n.assistance++;
        }
    } else {
        static const char *const outcome[] = {"Achieved",    "Achieved",
                                              "Achieved",    "PartiallyAchieved",
                                              "NotAchieved", "DeclinedByPerson"};
        date_of(a->t_end, d1);
        body = json_pack("{s:s, s:s, s:s}", "status", "Completed", "end_date", d1, "outcome",
                         PICK(&R->r, outcome));
        code = assistance_update(R->c, &p, cs, a->id, body, a->version, &out, err);
    }
    json_decref(body);
    json_decref(out);
    return code == AMP_OK ? AMP_OK : fail(err, code, "recording assistance");
}

static amp_code do_decide(run *R, decision_story *s, bool conclusive, amp_err *err)
{
    if (conclusive && !s->ok)
        return AMP_OK;
    int org = R->cases[s->cs].org;
    principal p = staff(org, ROLE_CASEWORKER);
    char on[11];
    date_of(conclusive ? s->t_conclusive : s->t_initial, on);
    bool pos = conclusive ? s->conclusive_positive : s->initial_positive;
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", conclusive ? "Conclusive" : "Initial",
                  "outcome", pos ? "Positive" : "Negative", "decision_maker",
                  orgs[org].decision_maker, "deciding_org", orgs[org].id, "decided_on", on);
    json_t *out = NULL;
    amp_code code = lifecycle_decide(R->c, &p, R->cases[s->cs].id, body, &out, err);
    json_decref(body);
    json_decref(out);
    if (code != AMP_OK)
        return fail(err, code, "an identification decision");
    s->ok = pos;
    R->n.decisions++;
    return AMP_OK;
}

static amp_code do_plan(run *R, plan_story *pl, amp_err *err)
{
    if (pl->stay >= 0 && !R->stays[pl->stay].discharged_on[0])
        return AMP_OK; /* the stay never happened (a waiting-list entry) */
    principal p = staff(pl->org, ROLE_CASEWORKER);
    char start[11], end[11];
    date_of(pl->t_start, start);
    care_add_months(start, 12, end);
    const dcase *d = &R->cases[pl->cs];
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:i, s:[ss], s:s, s:s, s:s}", "framework",
                             d->age >= 0 && d->age < 18 ? "child" : "adult", "start_date", start,
                             "planned_end_date", end, "status", "Active", "visit_interval_days", 30,
                             "services", "Psychosocial",
                             pl->org == ORG_MARTA ? "FamilySupport" : "IncomeGeneration",
                             "responsible_org", orgs[pl->org].id, "location_country", "EC",
                             "location_city", pl->org == ORG_MARTA ? "Guayaquil" : "Quito");
    json_t *out = NULL;
    care_wait *w = care_wait_new();
    amp_code code = wait_result(
        w, reint_plan_put(R->c, &p, R->cases[pl->cs].id, body, 0, care_wait_done, w, err), &out,
        err);
    json_decref(body);
    json_decref(out);
    if (code != AMP_OK)
        return fail(err, code, "a reintegration plan");
    pl->ok = true;
    R->n.plans++;
    return AMP_OK;
}

static amp_code do_visit(run *R, plan_story *pl, int64_t t, amp_err *err)
{
    if (!pl->ok)
        return AMP_OK;
    const dcase *d = &R->cases[pl->cs];
    const char *fw = d->age >= 0 && d->age < 18 ? "child" : "adult";
    const json_t *dims = json_object_get(
        json_object_get(json_object_get(care_config(), "frameworks"), fw), "dimensions");
    json_t *scores = json_object();
    size_t i, j;
    json_t *dim, *ind;
    json_array_foreach (dims, i, dim) {
        json_array_foreach (json_object_get(dim, "indicators"), j, ind) {
            double v = pl->level + (double)rnd(&R->r, 30) / 100.0 - 0.12;
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            json_object_set_new(scores, json_string_value(json_object_get(ind, "code")),
                                json_real(round(v * 100) / 100));
        }
    }
    pl->level += 0.04 + (double)rnd(&R->r, 8) / 100.0;
    if (chance(&R->r, 10))
        pl->level -= 0.15; /* a setback: the alerts have something to show */
    static const char *const types[] = {"HomeVisit", "HomeVisit", "OfficeVisit", "PhoneCall",
                                        "SchoolVisit"};
    char on[11];
    date_of(t, on);
    const char *type = PICK(&R->r, types);
    if (strcmp(type, "SchoolVisit") == 0 && strcmp(fw, "child") != 0)
        type = "HomeVisit";
    json_t *body = json_pack("{s:s, s:s, s:o}", "date", on, "type", type, "scores", scores);
    principal p = staff(pl->org, ROLE_CASEWORKER);
    json_t *out = NULL;
    care_wait *w = care_wait_new();
    amp_code code = wait_result(
        w, reint_visit_create(R->c, &p, d->id, body, care_wait_done, w, err), &out, err);
    json_decref(body);
    json_decref(out);
    if (code != AMP_OK)
        return fail(err, code, "a monitoring visit");
    R->n.visits++;
    return AMP_OK;
}

static amp_code do_training(run *R, training_story *t, amp_err *err)
{
    static const struct {
        const char *type, *title;
        const char *aud[3];
        const char *org_type[3];
        const char *topic[2];
        int lo, hi;
    } kinds[] = {
        {"Training",
         "Identificación de víctimas de trata en controles fronterizos",
         {"BorderOfficials", "Police", NULL},
         {"BorderMigration", "LawEnforcement", NULL},
         {"Identification", "ReferralMechanism"},
         15,
         40},
        {"Training",
         "Investigación del delito de trata y enfoque centrado en la víctima",
         {"Police", "Prosecutors", NULL},
         {"LawEnforcement", "Prosecution", NULL},
         {"CriminalProcedure", "VictimRights"},
         12,
         35},
        {"Workshop",
         "Ruta de derivación interinstitucional: casos prácticos",
         {"SocialWorkers", "HealthWorkers", "NGOStaff"},
         {"Government", "Health", "NGO"},
         {"ReferralMechanism", "VictimAssistance"},
         15,
         45},
        {"Workshop",
         "Inspección laboral y señales de trabajo forzoso",
         {"LabourInspectors", "PrivateSector", NULL},
         {"LabourInspection", "PrivateSector", NULL},
         {"LabourExploitation", "Identification"},
         10,
         30},
        {"Campaign",
         "Campaña «No te dejes engañar»: ofertas de empleo en redes sociales",
         {"Students", "Parents", "CommunityMembers"},
         {"Education", "Community", NULL},
         {"OnlineRecruitment", "SafeMigration"},
         80,
         400},
        {"Workshop",
         "Protección de niñas, niños y adolescentes en el entorno escolar",
         {"Teachers", "Parents", NULL},
         {"Education", "Community", NULL},
         {"ChildProtection", "Identification"},
         20,
         60},
        {"CoordinationMeeting",
         "Mesa provincial contra la trata de personas",
         {"GovernmentOfficials", "NGOStaff", "Police"},
         {"Government", "NGO", "LawEnforcement"},
         {"ActionPlan", "ReferralMechanism"},
         10,
         25},
    };
    static const struct {
        const char *cc, *province, *city;
    } places[] = {{"EC", "Pichincha", "Quito"},
                  {"EC", "Imbabura", "Ibarra"},
                  {"EC", "Carchi", "Tulcán"},
                  {"EC", "Guayas", "Guayaquil"},
                  {"EC", "Esmeraldas", "Esmeraldas"},
                  {"EC", "Sucumbíos", "Nueva Loja"},
                  {"PE", "Cusco", "Cusco"},
                  {"PE", "Tacna", "Tacna"},
                  {"CO", "Norte de Santander", "Cúcuta"},
                  {"CO", "Antioquia", "Medellín"}};
    const org_info *o = &orgs[t->org];
    size_t pi;
    do
        pi = rnd(&R->r, COUNT(places));
    while (strcmp(places[pi].cc, o->country) != 0);
    if (t->org == ORG_POLICE_EC)
        pi = rnd(&R->r, 3); /* the police unit of Zona 1: the northern provinces */
    size_t ki = rnd(&R->r, COUNT(kinds));
    int total = rnd_range(&R->r, kinds[ki].lo, kinds[ki].hi);
    int female = total * rnd_range(&R->r, 40, 70) / 100;
    int unrecorded = strcmp(kinds[ki].type, "Campaign") == 0 ? total / 5 : 0;
    int male = total - female - unrecorded;
    json_t *by_org = json_object(), *aud = json_array(), *topics = json_array();
    int left = total, nt = 0;
    while (nt < 3 && kinds[ki].org_type[nt])
        nt++;
    for (int k = 0; k < nt; k++) {
        int share = k == nt - 1 ? left : left * rnd_range(&R->r, 40, 70) / 100;
        left -= share;
        if (share)
            json_object_set_new(by_org, kinds[ki].org_type[k], json_integer(share));
    }
    for (int k = 0; k < 3 && kinds[ki].aud[k]; k++)
        json_array_append_new(aud, json_string(kinds[ki].aud[k]));
    for (int k = 0; k < 2; k++)
        json_array_append_new(topics, json_string(kinds[ki].topic[k]));
    char d0[11], d1[11];
    date_of(t->t, d0);
    int days = strcmp(kinds[ki].type, "Training") == 0 ? rnd_range(&R->r, 1, 3) : 1;
    date_of(t->t + (days - 1) * DAY, d1);
    json_t *sex = json_object();
    json_object_set_new(sex, "Female", json_integer(female));
    json_object_set_new(sex, "Male", json_integer(male));
    if (unrecorded)
        json_object_set_new(sex, "NotRecorded", json_integer(unrecorded));
    json_t *body = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:i, s:o, s:o, s:s}", "type", kinds[ki].type,
        "title", kinds[ki].title, "start_date", d0, "end_date", d1, "country", places[pi].cc,
        "province", places[pi].province, "city", places[pi].city, "audiences", aud, "topics",
        topics, "participants", total, "participants_by_sex", sex, "participants_by_org_type",
        by_org, "programme", "Plan de acción contra la trata 2026");
    if (t->org != ORG_ALAS)
        json_object_set_new(body, "partner_orgs", json_pack("[s]", orgs[ORG_ALAS].id));
    principal p = staff(t->org, t->org == ORG_ALAS ? ROLE_COORDINATOR : ROLE_CASEWORKER);
    json_t *out = NULL;
    care_wait *w = care_wait_new();
    amp_code code =
        wait_result(w, trainings_create(R->c, &p, body, care_wait_done, w, err), &out, err);
    json_decref(body);
    json_decref(out);
    if (code != AMP_OK)
        return fail(err, code, "a training");
    R->n.trainings++;
    return AMP_OK;
}

static amp_code do_contact(run *R, contact_story *k, enum kind kind, amp_err *err)
{
    static const char *const summaries[] = {
        "Llama una madre: su hija de 17 años viajó por una oferta de trabajo y ya no contesta.",
        "Persona refiere que le retienen el pasaporte en una finca y no le pagan desde hace meses.",
        "Vecino reporta adolescentes que entran de noche a un local sin permiso de funcionamiento.",
        "Consulta sobre una oferta de empleo en el extranjero recibida por redes sociales.",
        "Mujer extranjera pide ayuda: le exigen pagar una deuda de viaje trabajando en un bar.",
        "Docente informa de un estudiante que falta a clases y trabaja en la vía pública.",
        "Llamada anónima sobre un taller textil con personas que duermen en el lugar."};
    /* what a case opened from each situation records (gender, exploitation) */
    static const char *const case_fields[][2] = {{"Feminine", "SexualExploitation"},
                                                 {NULL, "ForcedLabour"},
                                                 {"Feminine", "SexualExploitation"},
                                                 {NULL, NULL},
                                                 {"Feminine", "SexualExploitation"},
                                                 {"Masculine", "ChildLabour"},
                                                 {NULL, "ForcedLabour"}};
    static const char *const places[] = {"Quito",   "Ibarra",     "Tulcán",   "Santo Domingo",
                                         "Otavalo", "Lago Agrio", "Guayaquil"};
    static const char *const channels[] = {"Phone",   "Phone",  "Phone", "Messaging",
                                           "WebForm", "WalkIn", "Email"};
    static const char *const callers[] = {"PotentialVictim", "Relative",  "Relative",
                                          "MemberOfPublic",  "Authority", "Anonymous",
                                          "Business"};
    static const char *const indicators[] = {
        "DocumentsWithheld",    "MovementRestricted",     "DebtBondage",
        "UnpaidOrUnderpaid",    "ExcessiveHours",         "ThreatsOrViolence",
        "DeceptiveRecruitment", "LivesAtWorkplace",       "Isolation",
        "MinorInvolved",        "SexualExploitationSigns"};
    principal p = staff(ORG_ALAS, ROLE_HOTLINE);
    json_t *out = NULL, *body;
    amp_code code;
    char ts[32];
    if (kind == A_CONTACT) {
        k->situation = (int)rnd(&R->r, COUNT(summaries));
        if (k->t_case && !case_fields[k->situation][1])
            k->situation = 0; /* a case is opened about a situation of trafficking */
        clock_format(k->t, ts);
        json_t *ind = json_array();
        int ni = 1 + (int)rnd(&R->r, 3);
        for (int i = 0; i < ni; i++) {
            json_t *v = json_string(PICK(&R->r, indicators));
            size_t j;
            json_t *e;
            bool dup = false;
            json_array_foreach (ind, j, e)
                dup = dup || json_equal(e, v);
            if (dup)
                json_decref(v);
            else
                json_array_append_new(ind, v);
        }
        static const unsigned uw[] = {15, 30, 55};
        static const char *const urg[] = {"Emergency", "High", "Standard"};
        body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "channel",
                         PICK(&R->r, channels), "caller_type", PICK(&R->r, callers), "received_at",
                         ts, "place", PICK(&R->r, places), "place_country", "EC", "language", "es",
                         "summary", summaries[k->situation], "indicators", ind, "urgency",
                         urg[pick_w(&R->r, uw, 3)]);
        if (!k->t_case) {
            unsigned x = rnd(&R->r, 100);
            if (x < 40) {
                json_object_set_new(body, "outcome", json_string("InformationGiven"));
            } else if (x < 60) {
                json_object_set_new(body, "outcome", json_string("ReferredToPolice"));
                json_object_set_new(body, "referred_to", json_string(orgs[ORG_POLICE_EC].id));
                json_object_set_new(body, "referred_at", json_string(ts));
            } else if (x < 80) {
                json_object_set_new(body, "outcome", json_string("ReferredToNGO"));
                json_object_set_new(body, "referred_to", json_string(orgs[ORG_MARTA].id));
                json_object_set_new(body, "referred_at", json_string(ts));
            } else {
                json_object_set_new(body, "outcome", json_string("NoFurtherAction"));
            }
        }
        code = hotline_create(R->c, &p, body, &out, err);
        if (code == AMP_OK) {
            copy_id(out, k->id);
            R->n.contacts++;
        }
    } else if (kind == A_REPEAT) {
        clock_format(k->t_repeat, ts);
        body = json_pack("{s:s, s:s, s:s}", "channel", "Phone", "received_at", ts, "summary",
                         "Vuelve a llamar: la situación continúa; pide que alguien la visite.");
        code = hotline_repeat(R->c, &p, k->id, body, &out, err);
    } else {
        body = json_pack("{s:[s]}", "vic_TypeOfExploitation", case_fields[k->situation][1]);
        if (case_fields[k->situation][0])
            json_object_set_new(body, "prs_Gender", json_string(case_fields[k->situation][0]));
        code = hotline_open_case(R->c, &p, k->id, body, &out, err);
        R->n.contacts_to_cases += code == AMP_OK;
    }
    json_decref(body);
    json_decref(out);
    return code == AMP_OK ? AMP_OK : fail(err, code, "a hotline contact");
}

/* The first perpetrator recorded on the case, for the proceeding ("" if none). */
static void first_perpetrator(run *R, const principal *p, int cs, char out[40])
{
    out[0] = '\0';
    json_t *c = NULL;
    amp_err e = {0};
    if (cases_get(R->c, p, R->cases[cs].id, &c, &e) == AMP_OK)
        copy_id(json_array_get(json_object_get(c, "perpetrators"), 0), out);
    amp_err_clear(&e);
    json_decref(c);
}

/* Records stage pr->done of a proceeding: opens it at the complaint, then
 * patches the list of stages (and, at the verdict, the outcome). */
static amp_code do_proceeding_stage(run *R, proceeding_story *pr, amp_err *err)
{
    static const char *const stages[MAX_STAGES] = {"Complaint", "Investigation", "Prosecution",
                                                   "Trial", "Verdict"};
    if (pr->done > 0 && !pr->id[0])
        return AMP_OK; /* never opened */
    principal p = staff(pr->org, ROLE_CASEWORKER);
    json_t *list = json_array();
    for (int k = 0; k <= pr->done; k++) {
        char on[11];
        date_of(pr->t_stage[k], on);
        json_t *st = json_pack("{s:s, s:s}", "stage", stages[k], "date", on);
        if (k == 0)
            json_object_set_new(st, "authority", json_string("Fiscalía Especializada en Trata"));
        json_array_append_new(list, st);
    }
    json_t *body, *out = NULL;
    care_wait *w = care_wait_new();
    amp_code code;
    bool verdict = strcmp(stages[pr->done], "Verdict") == 0;
    if (pr->done == 0) {
        first_perpetrator(R, &p, pr->cs, pr->perpetrator);
        body = json_pack("{s:s, s:o, s:s, s:s, s:[s, s], s:[s], s:[s, s], s:b}", "case",
                         R->cases[pr->cs].id, "stages", list, "jurisdiction_country",
                         orgs[pr->org].country, "authority", "Fiscalía", "offences",
                         "TraffickingInPersons",
                         chance(&R->r, 50) ? "SexualExploitation" : "ForcedLabour", "victim_roles",
                         "Witness", "protection_measures", "IdentityProtection", "SingleInterview",
                         "legal_representation", chance(&R->r, 75));
        if (pr->perpetrator[0])
            json_object_set_new(
                body, "perpetrators",
                json_pack("[{s:s, s:s}]", "perpetrator", pr->perpetrator, "standing", "Suspect"));
        code =
            wait_result(w, proceedings_create(R->c, &p, body, care_wait_done, w, err), &out, err);
    } else {
        body = json_pack("{s:o}", "stages", list);
        if (pr->perpetrator[0] && pr->done >= 2)
            json_object_set_new(
                body, "perpetrators",
                json_pack("[{s:s, s:s}]", "perpetrator", pr->perpetrator, "standing",
                          verdict ? (pr->conviction ? "Convicted" : "Acquitted") : "Accused"));
        if (verdict) {
            char on[11];
            date_of(pr->t_stage[pr->done], on);
            json_object_set_new(body, "verdict",
                                json_string(pr->conviction ? "Conviction" : "Acquittal"));
            json_object_set_new(body, "verdict_date", json_string(on));
            if (pr->conviction) {
                json_object_set_new(body, "sentence_months",
                                    json_integer(rnd_range(&R->r, 48, 192)));
                json_t *lk = json_array_get(json_object_get(body, "perpetrators"), 0);
                if (lk)
                    json_object_set_new(lk, "verdict", json_string("Conviction"));
            }
        }
        code = wait_result(
            w, proceedings_update(R->c, &p, pr->id, body, pr->version, care_wait_done, w, err),
            &out, err);
    }
    json_decref(body);
    if (code == AMP_OK) {
        if (pr->done == 0) {
            copy_id(out, pr->id);
            R->n.proceedings++;
        }
        pr->version = json_integer_value(json_object_get(out, "version"));
        R->n.verdicts += verdict;
        pr->done++;
    }
    json_decref(out);
    return code == AMP_OK ? AMP_OK : fail(err, code, "a criminal proceeding");
}

static amp_code do_reminder(run *R, reminder_story *m, bool done, amp_err *err)
{
    principal p = staff(m->org, ROLE_CASEWORKER);
    json_t *out = NULL;
    amp_code code;
    if (!done) {
        char due[11];
        date_of((int64_t)m->due_day * DAY, due);
        json_t *body = json_pack("{s:s, s:s, s:s}", "case", R->cases[m->cs].id, "due", due, "note",
                                 reminder_notes[m->note]);
        code = tasks_create(R->c, &p, body, &out, err);
        json_decref(body);
        if (code == AMP_OK) {
            copy_id(out, m->id);
            R->n.reminders++;
        }
    } else {
        if (!m->id[0])
            return AMP_OK;
        code = tasks_done(R->c, &p, m->id, &out, err);
        R->n.reminders_done += code == AMP_OK;
    }
    json_decref(out);
    return code == AMP_OK ? AMP_OK : fail(err, code, "a follow-up reminder");
}

static amp_code replay(run *R, amp_err *err)
{
    qsort(R->acts, R->nacts, sizeof *R->acts, act_cmp);
    for (size_t i = 0; i < R->nacts; i++) {
        const act *a = &R->acts[i];
        clock_at(a->at);
        amp_code code = AMP_OK;
        switch ((enum kind)a->kind) {
        case A_SEND: code = do_send(R, &R->refs[a->i], err); break;
        case A_ANSWER:
        case A_CANCEL:
        case A_COMPLETE:
            if (R->refs[a->i].ok)
                code = do_transition(R, &R->refs[a->i], (enum kind)a->kind, err);
            break;
        case A_ADMIT: code = do_admit(R, &R->stays[a->i], err); break;
        case A_DISCHARGE: code = do_discharge(R, &R->stays[a->i], err); break;
        case A_RETURN: code = do_return(R, &R->stays[a->i], false, a->at, err); break;
        case A_RETURN_DONE: code = do_return(R, &R->stays[a->i], true, a->at, err); break;
        case A_ASSIST: code = do_assist(R, &R->assists[a->i], false, err); break;
        case A_ASSIST_END: code = do_assist(R, &R->assists[a->i], true, err); break;
        case A_DECIDE_INITIAL: code = do_decide(R, &R->decisions[a->i], false, err); break;
        case A_DECIDE_CONCLUSIVE: code = do_decide(R, &R->decisions[a->i], true, err); break;
        case A_PLAN: code = do_plan(R, &R->plans[a->i], err); break;
        case A_VISIT: code = do_visit(R, &R->plans[a->i], a->at, err); break;
        case A_TRAINING: code = do_training(R, &R->trainings[a->i], err); break;
        case A_CONTACT:
        case A_REPEAT:
        case A_OPEN_CASE: code = do_contact(R, &R->contacts[a->i], (enum kind)a->kind, err); break;
        case A_PROCEEDING_STAGE: code = do_proceeding_stage(R, &R->proceedings[a->i], err); break;
        case A_REMIND: code = do_reminder(R, &R->reminders[a->i], false, err); break;
        case A_REMIND_DONE: code = do_reminder(R, &R->reminders[a->i], true, err); break;
        }
        if (code != AMP_OK)
            return code;
    }
    return AMP_OK;
}

/* ==== the run ================================================================== */

/* True when the data already holds referrals or shelters (a second run). */
static amp_code already_loaded(core *c, bool *yes, amp_err *err)
{
    principal p = {.actor = "demo", .lang = "en", .internal = true};
    list_param one[] = {{"limit", "1"}};
    json_t *a = NULL, *b = NULL;
    amp_code code = referrals_list(c, &p, one, 1, &a, err);
    if (code == AMP_OK)
        code = shelters_list(c, &p, one, 1, &b, err);
    *yes = code == AMP_OK && (json_integer_value(json_object_get(a, "total")) > 0 ||
                              json_integer_value(json_object_get(b, "total")) > 0);
    json_decref(a);
    json_decref(b);
    return code;
}

static amp_code count_all_cases(core *c, size_t *n, amp_err *err)
{
    principal p = {.actor = "demo", .lang = "en", .internal = true};
    list_param one[] = {{"limit", "1"}};
    json_t *out = NULL;
    amp_code code = cases_list(c, &p, one, 1, &out, err);
    *n = code == AMP_OK ? (size_t)json_integer_value(json_object_get(out, "total")) : 0;
    json_decref(out);
    return code;
}

amp_code demo_activity_run(core *c, uint64_t seed, const char *today, demo_activity_counts *counts,
                           amp_err *err)
{
    bool loaded = false;
    amp_code code = already_loaded(c, &loaded, err);
    if (code != AMP_OK)
        return fail(err, code, "checking for earlier activity");
    if (loaded)
        return amp_err_set(err, AMP_ESTATE,
                           "demo activity: this data directory already holds referrals or "
                           "shelters; the activity is loaded once, on a new demo");
    run R = {.c = c};
    R.r.s = seed ^ 0x6163746976697479ULL;
    R.today = care_days(today);
    if (R.today <= 0)
        return amp_err_set(err, AMP_EINVALID, "demo activity: today must be a date YYYY-MM-DD");
    char real_now[32];
    clock_now(real_now);
    int64_t now_s = 0;
    clock_parse(real_now, &now_s);
    R.now = (int64_t)R.today * DAY + 23 * HOUR;
    if (now_s / DAY == R.today && now_s < R.now)
        R.now = now_s; /* today is the real day: nothing after this moment */
    size_t total = 0;
    if ((code = count_all_cases(c, &total, err)) != AMP_OK ||
        (code = load_cases(&R, err)) != AMP_OK)
        goto out;
    if (R.ncases == 0) {
        code = amp_err_set(err, AMP_ESTATE,
                           "demo activity: no open demo case; load cases first (amparo demo "
                           "--cases N)");
        goto out;
    }
    qsort(R.cases, R.ncases, sizeof *R.cases, case_cmp);
    clock_at(((int64_t)period_start(&R) - 2) * DAY + 15 * HOUR);
    if ((code = run_directory(&R, err)) != AMP_OK || (code = run_shelters(&R, err)) != AMP_OK)
        goto out;
    plan_referrals(&R, total);
    plan_own_stays(&R);
    plan_own_assistance(&R, total);
    plan_decisions(&R, total);
    plan_proceedings(&R);
    plan_reminders(&R, total);
    plan_reintegration(&R, total);
    plan_trainings(&R, total);
    plan_contacts(&R, total);
    code = replay(&R, err);
    if (code == AMP_OK)
        code = fill_to_waiting(&R, err);
    for (size_t i = 0; i < R.nstays; i++) {
        R.n.admitted += R.stays[i].admitted || R.stays[i].discharged_on[0];
        R.n.waiting += R.stays[i].waiting;
    }
    for (size_t i = 0; i < R.nrefs; i++)
        R.n.unanswered += R.refs[i].ok && R.refs[i].fate <= F_UNANSWERED;
out:
    clock_set_now(NULL);
    clock_set_today(NULL);
    if (counts)
        *counts = R.n;
    free(R.cases);
    free(R.refs);
    free(R.stays);
    free(R.assists);
    free(R.decisions);
    free(R.plans);
    free(R.trainings);
    free(R.contacts);
    free(R.proceedings);
    free(R.reminders);
    free(R.acts);
    return code;
}

/* demo.c — synthetic HTCDS 2.0 cases for demos and benchmarks.
 *
 * Everything here is fiction.  A case is drawn in this order: the registering
 * country and organisation, a trafficking route typical of that country's caseload,
 * the form of exploitation (which drives gender and age), the dates (registration,
 * then the route backwards from it, then the birthdate from the age), and finally
 * the person's details.  All randomness comes from one xoshiro256** stream inside
 * the generator, so a seed always gives the same cases and generators are
 * independent of each other.
 */
#include "demo/demo.h"
#include "demo/names.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* A static list and its length, for table initialisers. */
#define LIST(...)                                                                                  \
    (const char *const[]){__VA_ARGS__},                                                            \
        (uint8_t)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* ==== random numbers ====================================================== */

typedef struct {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl64(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, n) (multiply-shift; the bias is far below anything visible). */
static inline uint32_t rnd(rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}
static inline bool chance(rng *r, unsigned pct)
{
    return rnd(r, 100) < pct;
}
static inline int rnd_range(rng *r, int lo, int hi)
{ /* inclusive */
    return lo + (int)rnd(r, (uint32_t)(hi - lo + 1));
}
static inline const char *pick(rng *r, const char *const *a, size_t n)
{
    return a[rnd(r, (uint32_t)n)];
}
static unsigned pick_w(rng *r, const uint16_t *w, unsigned n)
{
    uint32_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += w[i];
    if (total == 0)
        return 0;
    uint32_t x = rnd(r, total);
    for (unsigned i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}
/* k distinct indexes (k <= n, n <= 32) by weight, as a bit mask. */
static uint32_t pick_w_distinct(rng *r, const uint16_t *w, unsigned n, unsigned k)
{
    uint16_t tmp[32];
    uint32_t mask = 0;
    memcpy(tmp, w, n * sizeof *w);
    for (unsigned j = 0; j < k; j++) {
        unsigned i = pick_w(r, tmp, n);
        if (tmp[i] == 0)
            break; /* no weight left */
        mask |= 1u << i;
        tmp[i] = 0;
    }
    return mask;
}

/* ==== dates (days since 1970-01-01, proleptic Gregorian) =================== */

static int days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int)doe - 719468;
}

static void civil_from_days(int z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)yoe + era * 400 + (*m <= 2);
}

static int year_of(int days)
{
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    return y;
}

/* Writes "YYYY-MM-DD" and a NUL (11 bytes). */
static void fmt_date(int days, char *out)
{
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = 0;
}

static bool parse_date(const char *s, int *out)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    int days = days_from_civil(y, m, d);
    int y2;
    unsigned m2, d2;
    civil_from_days(days, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)
        return false; /* 31 April and the like */
    *out = days;
    return true;
}

/* Completed years between two dates. */
static int age_at(int birth, int at)
{
    int y1, y2;
    unsigned m1, d1, m2, d2;
    civil_from_days(birth, &y1, &m1, &d1);
    civil_from_days(at, &y2, &m2, &d2);
    int a = y2 - y1;
    if (m2 < m1 || (m2 == m1 && d2 < d1))
        a--;
    return a;
}

/* ==== countries ============================================================ */

enum {
    C_EC,
    C_PE,
    C_CO,
    C_GT,
    C_UA,
    C_BY,
    C_MD,
    C_VE,
    C_MX,
    C_US,
    C_ES,
    C_PL,
    C_DE,
    C_RU,
    C_RO,
    C_IT,
    C_TR,
    C_VN,
    C_GB,
    C_NG,
    C_IL,
    C_CZ,
    C_CL,
    C_HN,
    C_SV,
    C_BO,
    C_COUNT,
    C_NONE = 0xff
};

enum { IND_NONE, IND_KICHWA, IND_QUECHUA, IND_MAYA };
enum {
    ID_NONE,
    ID_EC,
    ID_PE,
    ID_CO,
    ID_GT,
    ID_UA,
    ID_BY,
    ID_MD,
    ID_VE,
    ID_RO,
    ID_VN,
    ID_NG,
    ID_RU,
    ID_HN,
    ID_SV,
    ID_BO
};

typedef struct {
    const char *iso;
    const char *dial;       /* country calling code */
    const char *const *mob; /* mobile prefixes after the calling code */
    uint8_t n_mob;
    uint8_t mob_rest; /* random digits after the prefix */
    const char *const *cities;
    uint8_t n_cities;
    int8_t names;      /* DEMO_NAMES_* or -1 */
    uint8_t indig_pct; /* share of indigenous surnames (Spanish list) */
    uint8_t indig;     /* IND_* */
    uint8_t idfmt;
    const char *const *provinces; /* of each city, in the order of cities; or NULL */
} country;

static const country countries[C_COUNT] = {
    [C_EC] = {"EC", "593", LIST("99", "98", "96", "97", "95", "93", "94"), 7,
              LIST("Quito", "Guayaquil", "Cuenca", "Santo Domingo", "Machala", "Esmeraldas",
                   "Lago Agrio", "Ibarra", "Tulcán", "Huaquillas", "Manta", "Ambato", "Otavalo",
                   "Riobamba"),
              DEMO_NAMES_ES, 18, IND_KICHWA, ID_EC,
              (const char *const[]){"Pichincha", "Guayas", "Azuay",
                                    "Santo Domingo de los Tsáchilas", "El Oro", "Esmeraldas",
                                    "Sucumbíos", "Imbabura", "Carchi", "El Oro", "Manabí",
                                    "Tungurahua", "Imbabura", "Chimborazo"}},
    [C_PE] = {"PE", "51", LIST("9"), 8,
              LIST("Lima", "Puerto Maldonado", "Cusco", "Juliaca", "Arequipa", "Tacna", "Tumbes",
                   "Iquitos", "Pucallpa", "Trujillo", "Piura", "Huancayo", "Chiclayo"),
              DEMO_NAMES_ES, 30, IND_QUECHUA, ID_PE,
              (const char *const[]){"Lima", "Madre de Dios", "Cusco", "Puno", "Arequipa", "Tacna",
                                    "Tumbes", "Loreto", "Ucayali", "La Libertad", "Piura", "Junín",
                                    "Lambayeque"}},
    [C_CO] = {"CO", "57",
              LIST("300", "301", "304", "310", "311", "312", "313", "314", "315", "316", "317",
                   "318", "320", "321", "350"),
              7,
              LIST("Bogotá", "Medellín", "Cali", "Cartagena", "Cúcuta", "Barranquilla", "Pasto",
                   "Ipiales", "Pereira", "Bucaramanga", "Santa Marta", "Villavicencio",
                   "Buenaventura", "Tumaco"),
              DEMO_NAMES_ES, 0, 0, ID_CO,
              (const char *const[]){"Bogotá D.C.", "Antioquia", "Valle del Cauca", "Bolívar",
                                    "Norte de Santander", "Atlántico", "Nariño", "Nariño",
                                    "Risaralda", "Santander", "Magdalena", "Meta",
                                    "Valle del Cauca", "Nariño"}},
    [C_GT] = {"GT", "502", LIST("3", "4", "5"), 7,
              LIST("Ciudad de Guatemala", "Quetzaltenango", "Tecún Umán", "Huehuetenango", "Cobán",
                   "Escuintla", "Puerto Barrios", "Mazatenango", "Chimaltenango", "Retalhuleu",
                   "Flores", "Mixco"),
              DEMO_NAMES_ES, 35, IND_MAYA, ID_GT,
              (const char *const[]){"Guatemala", "Quetzaltenango", "San Marcos", "Huehuetenango",
                                    "Alta Verapaz", "Escuintla", "Izabal", "Suchitepéquez",
                                    "Chimaltenango", "Retalhuleu", "Petén", "Guatemala"}},
    [C_UA] = {"UA", "380",
              LIST("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"), 7,
              LIST("Kyiv", "Kharkiv", "Odesa", "Dnipro", "Lviv", "Zaporizhzhia", "Vinnytsia",
                   "Chernivtsi", "Uzhhorod", "Mykolaiv", "Khmelnytskyi", "Ternopil", "Rivne",
                   "Poltava"),
              DEMO_NAMES_UA, 0, 0, ID_UA,
              (const char *const[]){"Kyiv City", "Kharkiv Oblast", "Odesa Oblast",
                                    "Dnipropetrovsk Oblast", "Lviv Oblast", "Zaporizhzhia Oblast",
                                    "Vinnytsia Oblast", "Chernivtsi Oblast", "Zakarpattia Oblast",
                                    "Mykolaiv Oblast", "Khmelnytskyi Oblast", "Ternopil Oblast",
                                    "Rivne Oblast", "Poltava Oblast"}},
    [C_BY] = {"BY", "375", LIST("25", "29", "33", "44"), 7,
              LIST("Minsk", "Homiel", "Mahiliou", "Vitsebsk", "Hrodna", "Brest", "Babruisk",
                   "Baranavichy", "Pinsk", "Maladziechna"),
              DEMO_NAMES_BY, 0, 0, ID_BY,
              (const char *const[]){"Minsk City", "Homiel Region", "Mahilioŭ Region",
                                    "Vitsebsk Region", "Hrodna Region", "Brest Region",
                                    "Mahilioŭ Region", "Brest Region", "Brest Region",
                                    "Minsk Region"}},
    [C_MD] = {"MD", "373", LIST("60", "62", "68", "69", "76", "78", "79"), 6,
              LIST("Chișinău", "Bălți", "Cahul", "Ungheni", "Soroca", "Orhei", "Comrat", "Edineț",
                   "Hîncești", "Căușeni"),
              DEMO_NAMES_RO, 0, 0, ID_MD,
              (const char *const[]){"Chișinău", "Bălți", "Cahul", "Ungheni", "Soroca", "Orhei",
                                    "Gagauzia", "Edineț", "Hîncești", "Căușeni"}},
    [C_VE] = {"VE", "58", LIST("412", "414", "416", "424", "426"), 7,
              LIST("Caracas", "Maracaibo", "Valencia", "San Cristóbal", "Barquisimeto", "Maturín",
                   "Ciudad Guayana", "Barcelona"),
              DEMO_NAMES_ES, 0, 0, ID_VE,
              (const char *const[]){"Distrito Capital", "Zulia", "Carabobo", "Táchira", "Lara",
                                    "Monagas", "Bolívar", "Anzoátegui"}},
    [C_MX] = {"MX", "52", LIST("55", "33", "81", "96", "66", "99"), 8,
              LIST("Tapachula", "Ciudad de México", "Tijuana", "Ciudad Juárez", "Monterrey",
                   "Cancún", "Guadalajara", "Reynosa"),
              DEMO_NAMES_ES, 0, 0, ID_NONE},
    [C_US] = {"US", "1", LIST("713", "213", "212", "305", "404", "602", "312"), 7,
              LIST("Houston", "Los Angeles", "New York", "Miami", "Atlanta", "Phoenix", "Chicago"),
              -1, 0, 0, ID_NONE},
    [C_ES] = {"ES", "34", LIST("6", "7"), 8,
              LIST("Madrid", "Barcelona", "Murcia", "Valencia", "Almería", "Huelva", "Bilbao"), -1,
              0, 0, ID_NONE},
    [C_PL] = {"PL", "48", LIST("50", "51", "53", "57", "60", "66", "69", "72", "78", "79", "88"), 7,
              LIST("Warsaw", "Kraków", "Wrocław", "Poznań", "Gdańsk", "Łódź"), -1, 0, 0, ID_NONE},
    [C_DE] = {"DE", "49", LIST("151", "152", "157", "160", "170", "171", "172", "176"), 8,
              LIST("Berlin", "Hamburg", "Munich", "Frankfurt am Main", "Cologne", "Düsseldorf"), -1,
              0, 0, ID_NONE},
    [C_RU] = {"RU", "7", LIST("9"), 9,
              LIST("Moscow", "Saint Petersburg", "Smolensk", "Yekaterinburg", "Krasnodar",
                   "Bryansk"),
              DEMO_NAMES_RU, 0, 0, ID_RU},
    [C_RO] = {"RO", "40", LIST("72", "73", "74", "75", "76", "77"), 7,
              LIST("Bucharest", "Iași", "Timișoara", "Cluj-Napoca", "Constanța"), DEMO_NAMES_RO, 0,
              0, ID_RO},
    [C_IT] = {"IT", "39", LIST("32", "33", "34", "35", "36", "38"), 8,
              LIST("Rome", "Milan", "Naples", "Turin", "Palermo", "Bologna", "Padua"), -1, 0, 0,
              ID_NONE},
    [C_TR] = {"TR", "90", LIST("53", "54", "55"), 8, LIST("Istanbul", "Antalya", "Ankara", "İzmir"),
              -1, 0, 0, ID_NONE},
    [C_VN] = {"VN", "84", LIST("3", "5", "7", "8", "9"), 8,
              LIST("Vinh", "Hà Tĩnh", "Hà Nội", "Hải Phòng", "Thanh Hóa", "Đồng Hới"),
              DEMO_NAMES_VI, 0, 0, ID_VN},
    [C_GB] = {"GB", "44", LIST("7"), 9,
              LIST("London", "Birmingham", "Manchester", "Glasgow", "Leeds", "Bradford"), -1, 0, 0,
              ID_NONE},
    [C_NG] = {"NG", "234", LIST("70", "80", "81", "90", "91"), 8,
              LIST("Benin City", "Lagos", "Abuja", "Port Harcourt", "Enugu", "Ibadan"),
              DEMO_NAMES_NG, 0, 0, ID_NG},
    [C_IL] = {"IL", "972", LIST("50", "52", "53", "54", "58"), 7,
              LIST("Tel Aviv", "Haifa", "Netanya"), -1, 0, 0, ID_NONE},
    [C_CZ] = {"CZ", "420", LIST("6", "7"), 8, LIST("Prague", "Brno", "Plzeň", "Ostrava"), -1, 0, 0,
              ID_NONE},
    [C_CL] = {"CL", "56", LIST("9"), 8, LIST("Santiago", "Arica", "Iquique", "Antofagasta"),
              DEMO_NAMES_ES, 0, 0, ID_NONE},
    [C_HN] = {"HN", "504", LIST("3", "8", "9"), 7,
              LIST("Tegucigalpa", "San Pedro Sula", "Choloma", "La Ceiba"), DEMO_NAMES_ES, 0, 0,
              ID_HN},
    [C_SV] = {"SV", "503", LIST("6", "7"), 7, LIST("San Salvador", "Santa Ana", "San Miguel"),
              DEMO_NAMES_ES, 0, 0, ID_SV},
    [C_BO] = {"BO", "591", LIST("6", "7"), 7,
              LIST("La Paz", "El Alto", "Cochabamba", "Santa Cruz de la Sierra"), DEMO_NAMES_ES, 40,
              IND_QUECHUA, ID_BO},
};

/* Primary language (ISO 639-1) of a citizen of country c. */
static const char *language_for(rng *r, int c)
{
    switch (c) {
    case C_EC: return chance(r, 6) ? "qu" : "es";
    case C_PE: return chance(r, 12) ? "qu" : (chance(r, 2) ? "ay" : "es");
    case C_BO: return chance(r, 20) ? "qu" : (chance(r, 10) ? "ay" : "es");
    case C_UA: return chance(r, 22) ? "ru" : "uk";
    case C_BY: return chance(r, 25) ? "be" : "ru";
    case C_MD: return chance(r, 25) ? "ru" : "ro";
    case C_RO: return "ro";
    case C_RU: return "ru";
    case C_VN: return "vi";
    case C_NG: return "en";
    case C_US:
    case C_GB: return "en";
    case C_PL: return "pl";
    case C_DE: return "de";
    case C_IT: return "it";
    case C_TR: return "tr";
    case C_IL: return "he";
    case C_CZ: return "cs";
    default: return "es";
    }
}

/* ==== organisations ======================================================== */

typedef struct {
    const char *id, *name, *type;
    uint8_t country;
    const char *city;
    const char *dial, *area; /* landline: +dial area NNN... */
    uint8_t rest;
    uint8_t weight; /* share of the country's cases */
} org_def;

static const org_def orgs[] = {
    {"ec-fundacion-alas", "Fundación Alas de Colibrí", "NGO", C_EC, "Quito", "593", "2", 7, 10},
    {"ec-acogida-santa-marta", "Centro de Acogida Santa Marta", "NGO", C_EC, "Guayaquil", "593",
     "4", 7, 8},
    {"ec-unidad-trata-zona1", "Unidad de Investigación contra la Trata – Zona 1", "LawEnforcement",
     C_EC, "Ibarra", "593", "6", 7, 4},
    {"pe-warmi-kallpa", "Asociación Warmi Kallpa", "NGO", C_PE, "Cusco", "51", "84", 6, 9},
    {"pe-refugio-amazonia", "Casa Refugio Amazonía Libre", "NGO", C_PE, "Puerto Maldonado", "51",
     "82", 6, 8},
    {"pe-oficina-victimas-tacna", "Oficina Regional de Atención a Víctimas de Trata – Tacna",
     "LocalGovernmentOrganisation", C_PE, "Tacna", "51", "52", 6, 4},
    {"co-semillas-esperanza", "Corporación Semillas de Esperanza", "NGO", C_CO, "Cúcuta", "57",
     "607", 7, 10},
    {"co-ruta-segura", "Fundación Ruta Segura", "NGO", C_CO, "Medellín", "57", "604", 7, 7},
    {"co-salud-renacer", "Centro de Salud Integral Renacer", "HealthServiceOrganisation", C_CO,
     "Bogotá", "57", "601", 7, 3},
    {"gt-nim-ja", "Asociación Nim Ja'", "NGO", C_GT, "Quetzaltenango", "502", "77", 6, 9},
    {"gt-hogar-luz-camino", "Hogar Refugio Luz del Camino", "NGO", C_GT, "Ciudad de Guatemala",
     "502", "2", 7, 7},
    {"ua-svitanok", "ГО «Світанок-Поділля»", "NGO", C_UA, "Vinnytsia", "380", "432", 6, 9},
    {"ua-nadiinyi-bereh", "БФ «Надійний Берег»", "NGO", C_UA, "Odesa", "380", "48", 7, 8},
    {"ua-pravo-poruch", "Юридична клініка «Право поруч»", "LegalService", C_UA, "Kharkiv", "380",
     "57", 7, 3},
    {"by-rastan", "Грамадскае аб'яднанне «Растань»", "NGO", C_BY, "Minsk", "375", "17", 7, 8},
    {"by-crisis-room-brest", "Кризисная комната «Тихая гавань»", "NGO", C_BY, "Brest", "375", "162",
     6, 4},
    {"md-pragul-sperantei", "Asociația Obștească „Pragul Speranței”", "NGO", C_MD, "Chișinău",
     "373", "22", 6, 9},
    {"md-casa-martisor", "Centrul de Asistență și Protecție „Casa Mărțișor”", "NGO", C_MD, "Bălți",
     "373", "231", 5, 6},
    {"md-sectia-antitrafic-cahul", "Secția Anti-Trafic Cahul", "LawEnforcement", C_MD, "Cahul",
     "373", "299", 5, 3},
};
#define N_ORGS COUNT(orgs)

/* Countries that own cases, and their share of all cases. */
static const uint8_t owner_countries[] = {C_EC, C_PE, C_CO, C_GT, C_UA, C_BY, C_MD};
static const uint16_t owner_weights[] = {20, 18, 18, 12, 16, 6, 10};
#define N_OWNERS COUNT(owner_countries)

/* ==== routes ================================================================ */

enum { F_CHILD = 1, F_ARMED = 2, F_SURR = 4, F_MARR = 8, F_WEBCAM = 16, F_BEG = 32 };

typedef struct {
    uint8_t owner, cit, rec, tra, exp; /* tra: C_NONE for a direct route */
    uint8_t weight;
    uint8_t sex, lab; /* % sexual exploitation / forced labour; the rest: other forms */
    const char *ind;  /* forced-labour industries (letters), repeated for weight */
    uint8_t flags;
    const char *const *xcities; /* places of exploitation, or NULL for any city */
    uint8_t n_xcities;
} route;

#define NOX NULL, 0
static const route routes[] = {
    /* Ecuador */
    {C_EC, C_EC, C_EC, C_NONE, C_EC, 30, 50, 35, "AAIITTGS", F_CHILD, NOX},
    {C_EC, C_EC, C_EC, C_NONE, C_EC, 6, 10, 30, "GAS", F_CHILD | F_BEG, NOX},
    {C_EC, C_CO, C_CO, C_NONE, C_EC, 12, 75, 20, "IIATS", 0, NOX},
    {C_EC, C_VE, C_VE, C_CO, C_EC, 16, 60, 32, "IIGTAF", 0, NOX},
    {C_EC, C_EC, C_EC, C_CO, C_ES, 5, 55, 40, "TTAI", 0, NOX},
    {C_EC, C_EC, C_EC, C_MX, C_US, 6, 15, 80, "AFFIC", 0, NOX},
    {C_EC, C_EC, C_EC, C_NONE, C_PE, 3, 40, 55, "BBAI", 0,
     LIST("Puerto Maldonado", "Tumbes", "Piura")},
    /* Peru */
    {C_PE, C_PE, C_PE, C_NONE, C_PE, 22, 45, 50, "BBBBAI", 0,
     LIST("Puerto Maldonado", "Huepetuhe", "Mazuko", "La Rinconada")},
    {C_PE, C_PE, C_PE, C_NONE, C_PE, 25, 45, 40, "TTIAGCS", F_CHILD | F_BEG, NOX},
    {C_PE, C_VE, C_VE, C_EC, C_PE, 20, 65, 30, "IGTS", 0, NOX},
    {C_PE, C_CO, C_CO, C_EC, C_PE, 5, 75, 20, "IS", 0, NOX},
    {C_PE, C_BO, C_BO, C_NONE, C_PE, 5, 35, 55, "BAT", F_CHILD, NOX},
    {C_PE, C_PE, C_PE, C_NONE, C_CL, 4, 30, 65, "AFT", 0, NOX},
    /* Colombia */
    {C_CO, C_CO, C_CO, C_NONE, C_CO, 28, 55, 30, "AAIGTB", F_ARMED | F_WEBCAM | F_CHILD, NOX},
    {C_CO, C_VE, C_VE, C_NONE, C_CO, 25, 60, 32, "AIGTS", F_WEBCAM, NOX},
    {C_CO, C_CO, C_CO, C_NONE, C_EC, 5, 70, 25, "IAS", 0, NOX},
    {C_CO, C_CO, C_CO, C_NONE, C_MX, 5, 85, 10, "I", 0, NOX},
    {C_CO, C_CO, C_CO, C_NONE, C_ES, 5, 80, 15, "TI", 0, NOX},
    {C_CO, C_CO, C_CO, C_NONE, C_TR, 2, 90, 5, "I", 0, NOX},
    {C_CO, C_CO, C_CO, C_EC, C_PE, 3, 65, 30, "IB", 0, NOX},
    /* Guatemala */
    {C_GT, C_GT, C_GT, C_NONE, C_GT, 30, 45, 25, "AATTGC", F_CHILD | F_MARR | F_BEG, NOX},
    {C_GT, C_HN, C_HN, C_NONE, C_GT, 12, 70, 20, "IAT", 0, NOX},
    {C_GT, C_SV, C_SV, C_NONE, C_GT, 6, 70, 20, "IAT", 0, NOX},
    {C_GT, C_GT, C_GT, C_MX, C_US, 18, 10, 85, "AAFFCI", 0, NOX},
    {C_GT, C_GT, C_GT, C_NONE, C_MX, 10, 45, 50, "AAIT", F_CHILD, NOX},
    {C_GT, C_HN, C_HN, C_GT, C_MX, 4, 60, 35, "AI", 0, NOX},
    /* Ukraine */
    {C_UA, C_UA, C_UA, C_NONE, C_PL, 22, 15, 80, "AAFFCCH", 0, NOX},
    {C_UA, C_UA, C_UA, C_PL, C_DE, 10, 45, 50, "FCAIT", 0, NOX},
    {C_UA, C_UA, C_UA, C_NONE, C_RU, 10, 20, 75, "FFAC", 0, NOX},
    {C_UA, C_UA, C_UA, C_NONE, C_UA, 22, 45, 35, "AFGIC", F_CHILD | F_BEG | F_SURR | F_WEBCAM, NOX},
    {C_UA, C_UA, C_UA, C_NONE, C_IL, 4, 70, 25, "TA", 0, NOX},
    {C_UA, C_UA, C_UA, C_NONE, C_TR, 4, 85, 10, "I", 0, NOX},
    {C_UA, C_UA, C_UA, C_PL, C_CZ, 5, 10, 85, "CCFA", 0, NOX},
    {C_UA, C_UA, C_UA, C_PL, C_GB, 3, 40, 55, "AIT", 0, NOX},
    {C_UA, C_UA, C_UA, C_NONE, C_IT, 3, 10, 80, "TTA", 0, NOX},
    {C_UA, C_VN, C_VN, C_RU, C_UA, 2, 10, 85, "CG", 0, LIST("Kharkiv", "Odesa", "Kyiv")},
    {C_UA, C_NG, C_NG, C_UA, C_IT, 2, 90, 8, "A", 0, NOX},
    /* Belarus */
    {C_BY, C_BY, C_BY, C_NONE, C_RU, 35, 30, 65, "FFCAI", 0, NOX},
    {C_BY, C_BY, C_BY, C_NONE, C_PL, 15, 15, 80, "AACF", 0, NOX},
    {C_BY, C_BY, C_BY, C_NONE, C_BY, 20, 50, 35, "AFC", F_BEG | F_WEBCAM, NOX},
    {C_BY, C_BY, C_BY, C_PL, C_DE, 5, 50, 45, "FCI", 0, NOX},
    {C_BY, C_BY, C_BY, C_NONE, C_TR, 5, 85, 10, "I", 0, NOX},
    {C_BY, C_VN, C_VN, C_BY, C_GB, 3, 15, 80, "SSCA", 0, NOX},
    /* Moldova */
    {C_MD, C_MD, C_MD, C_NONE, C_RU, 15, 10, 85, "FFFA", 0, NOX},
    {C_MD, C_MD, C_MD, C_RO, C_IT, 12, 40, 55, "TTAA", 0, NOX},
    {C_MD, C_MD, C_MD, C_NONE, C_TR, 12, 85, 10, "IT", 0, NOX},
    {C_MD, C_MD, C_MD, C_NONE, C_RO, 8, 45, 45, "AF", 0, NOX},
    {C_MD, C_MD, C_MD, C_NONE, C_MD, 20, 55, 30, "AGI", F_CHILD | F_BEG, NOX},
    {C_MD, C_MD, C_MD, C_NONE, C_IL, 3, 60, 35, "AT", 0, NOX},
    {C_MD, C_MD, C_MD, C_RO, C_DE, 5, 30, 65, "FAC", 0, NOX},
    {C_MD, C_UA, C_UA, C_NONE, C_MD, 8, 55, 35, "AIG", 0, NOX},
};
#define N_ROUTES COUNT(routes)

/* ==== picklists (HTCDS 2.0 value names) ===================================== */

enum {
    X_SEX,
    X_LAB,
    X_CHILD,
    X_MARR,
    X_SERV,
    X_MIL,
    X_ORGAN,
    X_BEG,
    X_ADOPT,
    X_SURR,
    X_OTHER,
    X_COUNT
};
static const char *const exploitation_names[X_COUNT] = {
    "SexualExploitation", "ForcedLabour",  "ChildLabour",
    "ForcedMarriage",     "Servitude",     "ForcedMilitaryByNonStateActors",
    "OrganRemoval",       "ForcedBegging", "ForcedAdoption",
    "Surrogacy",          "Other"};

static const char *industry_name(char c)
{
    switch (c) {
    case 'A': return "A_AgricultureForestryAndFishing";
    case 'B': return "B_MiningAndQuarrying";
    case 'C': return "C_Manufacturing";
    case 'F': return "F_Construction";
    case 'G': return "G_WholesaleAndRetailTradeRepairOfMotorVehicles";
    case 'H': return "H_TransportationAndStorage";
    case 'I': return "I_AccommodationAndFoodServiceActivities";
    case 'T': return "T_ActivitiesOfHouseholdsAsEmployers";
    default: return "S_OtherServiceActivities";
    }
}

static const char *const recruitment_names[] = {"AtAPlaceOfBusiness",
                                                "AtAnEducationalInstitution",
                                                "AtWork",
                                                "ThroughOnlineSocialNetworks",
                                                "ThroughAnOnlineAdvertisement",
                                                "ThroughATelevisionAdvert",
                                                "ThroughANewspaperAdvert",
                                                "ThroughFamilyOrFamilyEvents",
                                                "ThroughFriendsOrSocialEvents",
                                                "Other"};
static const uint16_t recruit_w_sex[] = {5, 3, 5, 30, 15, 1, 3, 10, 30, 4};
static const uint16_t recruit_w_lab[] = {10, 1, 15, 15, 20, 2, 8, 12, 25, 4};
static const uint16_t recruit_w_other[] = {3, 4, 2, 8, 4, 0, 1, 50, 25, 5};

static const char *const website_names[] = {
    "Facebook", "Instagram", "WhatsApp", "Telegram", "FacebookMessenger",
    "Viber",    "SnapChat",  "TikTok",   "Twitter",  "Other"};
static const uint16_t website_w_latam[] = {35, 15, 30, 2, 10, 0, 1, 10, 1, 3};
static const uint16_t website_w_east[] = {15, 15, 5, 35, 3, 20, 0, 5, 0, 5};
static const uint16_t website_w_other[] = {40, 10, 15, 3, 10, 3, 1, 5, 1, 15};

static const char *const control_names[] = {"PhysicalThreats",
                                            "ThreatsLawEnforcement",
                                            "ThreatensChildrenFamily",
                                            "DebtBondage",
                                            "FalsePromises",
                                            "PhysicalAbuse",
                                            "SexualAbuse",
                                            "TakesEarnings",
                                            "RestrictsFinancialAccess",
                                            "RestrictsMedicalCare",
                                            "WithholdsNecessities",
                                            "PsychologicalAbuse",
                                            "PsychoactiveSubstance",
                                            "ExcessiveWorkingHours",
                                            "WithholdsDocuments",
                                            "Other"};
static const uint16_t control_w_sex[] = {20, 6, 12, 18, 15, 14, 12, 18, 6, 4, 5, 18, 8, 8, 12, 2};
static const uint16_t control_w_lab[] = {10, 10, 5, 20, 22, 6, 1, 18, 8, 4, 8, 10, 1, 22, 20, 2};
static const uint16_t control_w_other[] = {15, 3, 10, 6, 10, 15, 6, 10, 5, 5, 15, 20, 3, 12, 6, 3};

static const char *const sexex_names[] = {"Prostitution", "Pornography",
                                          "RemoteInteractiveServices", "PrivateSexualServices"};

static const char *const role_names[] = {"RecruiterOrIntermediary",
                                         "Exploiter",
                                         "Transporter",
                                         "Abuser",
                                         "BrokerTravelAgent",
                                         "Smuggler",
                                         "Kidnapper",
                                         "SoldIndividual",
                                         "BoughtIndividual",
                                         "HarbouredIndividual",
                                         "ReceivedIndividual",
                                         "TravellingPartner",
                                         "Other"};
static const uint16_t role_w_first[] = {45, 35, 6, 4, 4, 2, 1, 1, 1, 2, 1, 2, 1};
static const uint16_t role_w_next[] = {15, 45, 12, 8, 3, 5, 1, 1, 3, 4, 2, 1, 2};

static const char *const spl_names[] = {"Education",
                                        "Financial",
                                        "Health",
                                        "LabourExploitationRehabilitation",
                                        "Legal",
                                        "Livelihood",
                                        "RightsBasedTraining",
                                        "SexualExploitationRehabilitation",
                                        "SocialCare"};

/* Each support plan type, two objectives. */
static const char *const spl_objectives[][2] = {
    {"Re-enrol in school and catch up on the missed school year.",
     "Complete a vocational training course."},
    {"Cover rent and basic needs for the first three months.",
     "Open a bank account and receive the reintegration grant."},
    {"Complete medical check-ups and treatment.",
     "Attend psychological counselling sessions every week."},
    {"Recover from the effects of exploitation through counselling and peer support.",
     "Claim unpaid wages and rebuild trust in safe employment."},
    {"Obtain legal advice and decide whether to file a complaint.",
     "Regularise migration status and obtain identity documents."},
    {"Start a small business with seed capital and mentoring.",
     "Find stable employment with a vetted employer."},
    {"Learn about labour rights and safe migration.",
     "Attend workshops on rights and available protection services."},
    {"Recover from sexual exploitation with specialised therapy.",
     "Rebuild a safe support network and personal safety plan."},
    {"Secure safe accommodation and reunite with family.",
     "Arrange childcare and access to social benefits."},
};

static const char *const closure_closed[] = {
    "Support plan objectives achieved; the person lives independently.",
    "Reintegration completed and the follow-up period has ended.",
    "Contact lost after several follow-up attempts.",
    "The person asked to end the assistance.",
    "The person moved abroad and declined further support.",
    "All planned services delivered; no further needs identified.",
    "The person found stable employment and no longer needs support.",
    "Case reviewed: no indicators of trafficking were confirmed.",
};
static const char *const closure_referred[] = {
    "Referred to a partner organisation in the country of origin for reintegration.",
    "Referred to the national child protection system.",
    "Referred to a specialised shelter in another province.",
    "Transferred to a partner organisation closer to the family's home.",
    "Referred to legal aid services for the ongoing court case.",
};

static const char *const comment_texts[] = {
    "Initial interview held with an interpreter present.",
    "Placed in the shelter for emergency accommodation.",
    "Medical check-up completed; follow-up appointment scheduled.",
    "Legal counsel explained the options for filing a complaint.",
    "Family tracing started in the country of origin.",
    "The person prefers not to make a statement to the police for now.",
    "Safety assessment updated after threatening phone calls.",
    "Psychological support sessions started twice a week.",
    "Identity documents requested from the consulate.",
    "Follow-up call made; the person is doing well.",
    "Travel home organised together with the partner organisation.",
    "Risk assessment completed; no immediate danger reported.",
    "The person asked for help finding a job near the family.",
    "School enrolment confirmed for the next term.",
};

static const char *const desc_recruit_sex[] = {
    "Offered a job as a waitress abroad by an acquaintance.",
    "Contacted through social media with a modelling offer.",
    "Promised well-paid work in a restaurant.",
    "A new partner proposed moving together to find work.",
    "A friend offered work as a dancer with good pay.",
};
static const char *const desc_recruit_lab[] = {
    "Recruited with a promise of seasonal farm work.",
    "Answered a job advert for construction workers.",
    "A relative offered work and paid the travel costs.",
    "Offered a factory job with accommodation included.",
    "A recruiter promised legal work papers and a fixed salary.",
};
static const char *const desc_recruit_other[] = {
    "Approached by a recruiter in the home community.",
    "The family was promised that the child would study and work.",
    "Taken from home by an acquaintance of the family.",
};
static const char *const desc_transit[] = {
    "Travelled by bus with the recruiter, who kept the documents.",
    "Crossed the border on foot through an irregular crossing.",
    "Stayed several days in a rented room before moving on.",
    "Travelled by plane on a tourist visa arranged by the recruiter.",
    "Moved by minibus together with other recruited workers.",
};

/* ==== the generator ========================================================= */

#define CACHE_SLOTS 4096u /* power of two; more than the distinct static strings */
#define CACHE_INTS 128

struct demo_gen {
    rng r;
    uint64_t seed;
    int today;     /* days since 1970-01-01 */
    int reg_start; /* first registration date */
    uint16_t route_lo[N_OWNERS], route_hi[N_OWNERS];
    uint16_t org_lo[N_OWNERS], org_hi[N_OWNERS];
    uint16_t route_w[N_ROUTES];
    uint16_t org_w[N_ORGS];
    /* Shared immutable values (see "value cache" below). */
    struct {
        const char *key; /* a static string, by address */
        json_t *val;
    } cache[CACHE_SLOTS];
    unsigned n_cached;
    json_t *ints[CACHE_INTS];
    json_t **days; /* dates from days_lo on, n_days of them */
    int days_lo, n_days;
};

demo_gen *demo_gen_new(uint64_t seed, const char *today)
{
    demo_gen *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->seed = seed;
    rng_seed(&g->r, seed);
    if (!parse_date(today, &g->today)) {
        time_t now = time(NULL);
        g->today = (int)(now / 86400);
    }
    g->reg_start = days_from_civil(2015, 1, 1);
    if (g->reg_start > g->today - 365)
        g->reg_start = g->today - 365;
    for (size_t o = 0; o < N_OWNERS; o++) {
        size_t i = 0;
        while (i < N_ROUTES && routes[i].owner != owner_countries[o])
            i++;
        g->route_lo[o] = (uint16_t)i;
        while (i < N_ROUTES && routes[i].owner == owner_countries[o])
            i++;
        g->route_hi[o] = (uint16_t)i;
        i = 0;
        while (i < N_ORGS && orgs[i].country != owner_countries[o])
            i++;
        g->org_lo[o] = (uint16_t)i;
        while (i < N_ORGS && orgs[i].country == owner_countries[o])
            i++;
        g->org_hi[o] = (uint16_t)i;
    }
    for (size_t i = 0; i < N_ROUTES; i++)
        g->route_w[i] = routes[i].weight;
    for (size_t i = 0; i < N_ORGS; i++)
        g->org_w[i] = orgs[i].weight;
    g->days_lo = days_from_civil(2005, 1, 1); /* route and case dates; not birthdates */
    g->n_days = g->today + 600 - g->days_lo;  /* planned end dates run past today */
    if (g->n_days < 0)
        g->n_days = 0;
    g->days = calloc((size_t)g->n_days + 1, sizeof *g->days);
    if (!g->days) {
        free(g);
        return NULL;
    }
    return g;
}

void demo_gen_free(demo_gen *g)
{
    if (!g)
        return;
    for (unsigned i = 0; i < CACHE_SLOTS; i++)
        json_decref(g->cache[i].val);
    for (unsigned i = 0; i < CACHE_INTS; i++)
        json_decref(g->ints[i]);
    for (int i = 0; i < g->n_days; i++)
        json_decref(g->days[i]);
    free(g->days);
    free(g);
}

/* ---- value cache --------------------------------------------------------------
 * Most values in a case are constants (picklist names, country codes, cities,
 * names from the lists, dates, small numbers).  Allocating a fresh json_t for each
 * would make malloc/free most of the cost, so the generator keeps one json_t per
 * distinct constant and every case takes a reference to it.  Documents stay
 * ordinary reference-counted jansson values (jansson's counts are atomic, so cases
 * may be freed on any thread, also after the generator is gone); the one thing a
 * caller must not do is change such a string in place with json_string_set(). */

static json_t *cstr(demo_gen *g, const char *s)
{
    const unsigned mask = CACHE_SLOTS - 1;
    unsigned h = (unsigned)(((uint64_t)(uintptr_t)s * 0x9e3779b97f4a7c15ULL) >> 52) & mask;
    while (g->cache[h].key) {
        if (g->cache[h].key == s)
            return json_incref(g->cache[h].val);
        h = (h + 1) & mask;
    }
    if (g->n_cached >= CACHE_SLOTS / 4 * 3)
        return json_string_nocheck(s); /* full */
    json_t *v = json_string_nocheck(s);
    if (!v)
        return NULL;
    g->cache[h].key = s;
    g->cache[h].val = v;
    g->n_cached++;
    return json_incref(v);
}

static json_t *cint(demo_gen *g, json_int_t v)
{
    if (v < 0 || v >= CACHE_INTS)
        return json_integer(v);
    if (!g->ints[v] && !(g->ints[v] = json_integer(v)))
        return NULL;
    return json_incref(g->ints[v]);
}

static json_t *cdate(demo_gen *g, int days)
{
    int i = days - g->days_lo;
    if (i < 0 || i >= g->n_days || !g->days[i]) {
        char b[11];
        fmt_date(days, b);
        json_t *v = json_stringn_nocheck(b, 10);
        if (i < 0 || i >= g->n_days || !v)
            return v;
        g->days[i] = v;
    }
    return json_incref(g->days[i]);
}

/* ---- small JSON helpers (all values are known-valid UTF-8) ---------------- */

/* Keys are always string literals (the "" k "" makes sure), so their length is
 * known at compile time.  put_str's value must be a string with static storage (a
 * literal or a table entry); put_strn's is built on the stack. */
#define set_key(o, k, v) json_object_setn_new_nocheck((o), "" k "", sizeof(k) - 1, (v))
#define put_str(g, o, k, v) set_key(o, k, cstr((g), (v)))
#define put_strn(o, k, v, n) set_key(o, k, json_stringn_nocheck((v), (n)))
#define put_int(g, o, k, v) set_key(o, k, cint((g), (v)))
#define put_date(g, o, k, days) set_key(o, k, cdate((g), (days)))
static json_t *str_array(demo_gen *g, const char *const *names, uint32_t mask)
{
    json_t *a = json_array();
    for (unsigned i = 0; mask; i++, mask >>= 1)
        if (mask & 1)
            json_array_append_new(a, cstr(g, names[i]));
    return a;
}
static json_t *str_array1(demo_gen *g, const char *v)
{
    json_t *a = json_array();
    json_array_append_new(a, cstr(g, v));
    return a;
}

/* ---- strings built without printf ------------------------------------------ */

static char *cat(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}
static char *digits(rng *r, char *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        *p++ = (char)('0' + rnd(r, 10));
    return p;
}
static char *num2(char *p, unsigned v)
{
    *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

static size_t make_mobile(rng *r, int c, char *out)
{
    const country *k = &countries[c];
    char *p = out;
    *p++ = '+';
    p = cat(p, k->dial);
    p = cat(p, pick(r, k->mob, k->n_mob));
    p = digits(r, p, k->mob_rest);
    *p = 0;
    return (size_t)(p - out);
}

/* A plausible identity document number for a citizen of c; 0 when none. */
static size_t make_id(rng *r, int c, int birth, bool female, char *out)
{
    char *p = out;
    int by = year_of(birth);
    int y;
    unsigned m, d;
    switch (countries[c].idfmt) {
    case ID_EC: { /* cédula: province, third digit < 6, modulo-10 check digit */
        unsigned dg[10];
        unsigned prov = (unsigned)rnd_range(r, 1, 24);
        dg[0] = prov / 10;
        dg[1] = prov % 10;
        dg[2] = rnd(r, 6);
        for (int i = 3; i < 9; i++)
            dg[i] = rnd(r, 10);
        unsigned sum = 0;
        for (int i = 0; i < 9; i++) {
            unsigned v = dg[i] * (i % 2 == 0 ? 2 : 1);
            sum += v > 9 ? v - 9 : v;
        }
        dg[9] = (10 - sum % 10) % 10;
        for (int i = 0; i < 10; i++)
            *p++ = (char)('0' + dg[i]);
        break;
    }
    case ID_PE: /* DNI */
        *p++ = "0124467"[rnd(r, 7)];
        p = digits(r, p, 7);
        break;
    case ID_CO: /* cédula de ciudadanía */
        if (by >= 1985) {
            p = cat(p, "10");
            p = digits(r, p, 8);
        } else {
            *p++ = (char)('1' + rnd(r, 9));
            p = digits(r, p, 7);
        }
        break;
    case ID_GT: /* DPI/CUI: 8 digits, check digit, department and municipality */
        *p++ = (char)('1' + rnd(r, 9));
        p = digits(r, p, 3);
        *p++ = ' ';
        p = digits(r, p, 5);
        *p++ = ' ';
        p = num2(p, (unsigned)rnd_range(r, 1, 22));
        p = num2(p, (unsigned)rnd_range(r, 1, 17));
        break;
    case ID_UA:
        if (chance(r, 70)) { /* ID card */
            *p++ = (char)('0' + rnd(r, 3));
            p = digits(r, p, 8);
        } else { /* old passport booklet */
            static const char *const series[] = {"АА", "ВК", "ЕН", "КА", "МЕ", "НК", "СО", "ТТ"};
            p = cat(p, pick(r, series, COUNT(series)));
            p = digits(r, p, 6);
        }
        break;
    case ID_BY: {
        static const char *const series[] = {"AB", "BM", "HB", "KH", "MP", "MC", "KB"};
        p = cat(p, pick(r, series, COUNT(series)));
        p = digits(r, p, 7);
        break;
    }
    case ID_MD: /* IDNP */
        p = cat(p, "200");
        p = digits(r, p, 10);
        break;
    case ID_VE:
        p = cat(p, "V-");
        if (by >= 1980) {
            *p++ = (char)('1' + rnd(r, 3));
            p = digits(r, p, 7);
        } else {
            *p++ = (char)('3' + rnd(r, 6));
            p = digits(r, p, 6);
        }
        break;
    case ID_RO: { /* CNP: sex/century, birthdate, county, serial, check digit */
        static const unsigned wts[12] = {2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9};
        unsigned dg[13];
        civil_from_days(birth, &y, &m, &d);
        dg[0] = (y >= 2000 ? 5u : 1u) + (female ? 1u : 0u);
        dg[1] = (unsigned)(y % 100) / 10;
        dg[2] = (unsigned)(y % 10);
        dg[3] = m / 10;
        dg[4] = m % 10;
        dg[5] = d / 10;
        dg[6] = d % 10;
        unsigned county = (unsigned)rnd_range(r, 1, 46);
        dg[7] = county / 10;
        dg[8] = county % 10;
        unsigned serial = (unsigned)rnd_range(r, 1, 999);
        dg[9] = serial / 100;
        dg[10] = serial / 10 % 10;
        dg[11] = serial % 10;
        unsigned sum = 0;
        for (int i = 0; i < 12; i++)
            sum += dg[i] * wts[i];
        dg[12] = sum % 11 == 10 ? 1 : sum % 11;
        for (int i = 0; i < 13; i++)
            *p++ = (char)('0' + dg[i]);
        break;
    }
    case ID_VN: { /* CCCD: province, sex/century, year, serial */
        static const char *const prov[] = {"001", "031", "038", "040", "042", "044"};
        civil_from_days(birth, &y, &m, &d);
        p = cat(p, pick(r, prov, COUNT(prov)));
        *p++ = (char)('0' + (y >= 2000 ? 2 : 0) + (female ? 1 : 0));
        p = num2(p, (unsigned)(y % 100));
        p = digits(r, p, 6);
        break;
    }
    case ID_NG: /* NIN */
        *p++ = (char)('1' + rnd(r, 9));
        p = digits(r, p, 10);
        break;
    case ID_RU: /* internal passport: series and number */
        p = digits(r, p, 2);
        *p++ = ' ';
        p = num2(p, (unsigned)(by + 20) % 100);
        *p++ = ' ';
        p = digits(r, p, 6);
        break;
    case ID_HN: /* DNI: department-municipality, birth year, serial */
        p = num2(p, (unsigned)rnd_range(r, 1, 18));
        p = num2(p, (unsigned)rnd_range(r, 1, 20));
        *p++ = '-';
        *p++ = (char)('0' + by / 1000);
        *p++ = (char)('0' + by / 100 % 10);
        p = num2(p, (unsigned)by % 100);
        *p++ = '-';
        p = digits(r, p, 5);
        break;
    case ID_SV: /* DUI */
        *p++ = '0';
        p = digits(r, p, 7);
        *p++ = '-';
        p = digits(r, p, 1);
        break;
    case ID_BO: /* cédula de identidad */
        *p++ = (char)('1' + rnd(r, 9));
        p = digits(r, p, 6);
        break;
    default: return 0;
    }
    *p = 0;
    return (size_t)(p - out);
}

/* Appends the ASCII letters of a (Latin-script) UTF-8 name, lower-cased and
 * without diacritics, for an e-mail address.  Unknown letters are dropped. */
static char *ascii_fold(char *p, const char *s, size_t room)
{
    static const char latin1[] = "aaaaaaaceeeeiiiidnooooo-ouuuuyts"
                                 "aaaaaaaceeeeiiiidnooooo-ouuuuyty";
    static const struct {
        uint16_t lo, hi;
        char c;
    } ranges[] = {
        {0x100, 0x105, 'a'},   {0x106, 0x10d, 'c'},   {0x10e, 0x111, 'd'},   {0x112, 0x11b, 'e'},
        {0x11c, 0x123, 'g'},   {0x124, 0x127, 'h'},   {0x128, 0x133, 'i'},   {0x134, 0x135, 'j'},
        {0x136, 0x138, 'k'},   {0x139, 0x142, 'l'},   {0x143, 0x14b, 'n'},   {0x14c, 0x153, 'o'},
        {0x154, 0x159, 'r'},   {0x15a, 0x161, 's'},   {0x162, 0x167, 't'},   {0x168, 0x173, 'u'},
        {0x174, 0x175, 'w'},   {0x176, 0x178, 'y'},   {0x179, 0x17e, 'z'},   {0x1a0, 0x1a1, 'o'},
        {0x1af, 0x1b0, 'u'},   {0x218, 0x219, 's'},   {0x21a, 0x21b, 't'},   {0x1ea0, 0x1eb7, 'a'},
        {0x1eb8, 0x1ec7, 'e'}, {0x1ec8, 0x1ecb, 'i'}, {0x1ecc, 0x1ee3, 'o'}, {0x1ee4, 0x1ef1, 'u'},
        {0x1ef2, 0x1ef9, 'y'},
    };
    const unsigned char *u = (const unsigned char *)s;
    char *end = p + room;
    while (*u && p < end) {
        uint32_t cp;
        if (*u < 0x80) {
            cp = *u++;
        } else if ((*u & 0xe0) == 0xc0 && u[1]) {
            cp = ((uint32_t)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
            u += 2;
        } else if ((*u & 0xf0) == 0xe0 && u[1] && u[2]) {
            cp = ((uint32_t)(u[0] & 0x0f) << 12) | ((uint32_t)(u[1] & 0x3f) << 6) | (u[2] & 0x3f);
            u += 3;
        } else {
            u++;
            continue;
        }
        char c = 0;
        if (cp >= 'a' && cp <= 'z')
            c = (char)cp;
        else if (cp >= 'A' && cp <= 'Z')
            c = (char)(cp - 'A' + 'a');
        else if (cp >= 0xc0 && cp <= 0xff)
            c = latin1[cp - 0xc0];
        else
            for (size_t i = 0; i < COUNT(ranges); i++)
                if (cp >= ranges[i].lo && cp <= ranges[i].hi) {
                    c = ranges[i].c;
                    break;
                }
        if (c && c != '-')
            *p++ = c;
    }
    return p;
}

/* ---- people ------------------------------------------------------------------ */

enum { G_F, G_M, G_TF, G_TM, G_NC, G_UNK };
static const char *const gender_names[] = {
    "Feminine",      "Masculine",          "TransgenderFeminine", "TransgenderMasculine",
    "NonConforming", "NonSpecifiedUnknown"};

static bool uses_female_names(rng *r, int gender)
{
    if (gender == G_F || gender == G_TF)
        return true;
    if (gender == G_M || gender == G_TM)
        return false;
    return chance(r, 50);
}

typedef struct {
    const char *first, *middle, *second; /* static strings; second may be `buf` */
    const char *first_lat, *second_lat;  /* Latin forms, for an e-mail address */
    char buf[128];                       /* "Paternal Maternal" surnames */
    bool has_middle;
} person_name;

static const char *es_surname(rng *r, const demo_names *nl, const country *k)
{
    if (k->indig_pct && chance(r, k->indig_pct)) {
        if (k->indig == IND_MAYA)
            return pick(r, demo_sur_maya, demo_n_sur_maya);
        if (k->indig == IND_KICHWA)
            return pick(r, demo_sur_kichwa, demo_n_sur_kichwa);
        return pick(r, demo_sur_quechua, demo_n_sur_quechua);
    }
    return pick(r, nl->sur, nl->n_sur);
}

/* Fills `pn` with a name for a citizen of `c`; false when there is no list. */
static bool make_name(rng *r, int c, bool female, person_name *pn)
{
    const country *k = &countries[c];
    if (k->names < 0)
        return false;
    const demo_names *nl = &demo_name_lists[k->names];
    const char *const *given = female ? nl->given_f : nl->given_m;
    const char *const *given_cyr = female ? nl->given_f_cyr : nl->given_m_cyr;
    size_t ng = female ? nl->n_given_f : nl->n_given_m;
    bool cyr = given_cyr && chance(r, 25);
    size_t gi = rnd(r, (uint32_t)ng);
    size_t si = rnd(r, (uint32_t)nl->n_sur);
    pn->has_middle = false;
    pn->first_lat = given[gi];
    pn->first = cyr ? given_cyr[gi] : given[gi];

    if (k->names == DEMO_NAMES_ES) {
        const char *s1 = es_surname(r, nl, k);
        pn->second_lat = s1;
        if (chance(r, 80)) { /* paternal and maternal surname */
            const char *s2 = es_surname(r, nl, k);
            if (s2 == s1)
                s2 = es_surname(r, nl, k);
            char *p = cat(pn->buf, s1); /* both under 40 bytes */
            *p++ = ' ';
            p = cat(p, s2);
            *p = 0;
            pn->second = pn->buf;
        } else {
            pn->second = s1;
        }
        if (chance(r, 35)) {
            size_t mi = rnd(r, (uint32_t)ng);
            if (mi != gi) {
                pn->middle = given[mi];
                pn->has_middle = true;
            }
        }
        return true;
    }

    const char *sur = (female && nl->sur_f) ? nl->sur_f[si] : nl->sur[si];
    pn->second_lat = sur;
    pn->second = cyr && nl->sur_cyr ? nl->sur_cyr[si] : sur;
    if (nl->pat_m && chance(r, 30)) {
        size_t pi = rnd(r, (uint32_t)nl->n_pat);
        const char *pat = female ? (cyr && nl->pat_f_cyr ? nl->pat_f_cyr[pi] : nl->pat_f[pi])
                                 : (cyr && nl->pat_m_cyr ? nl->pat_m_cyr[pi] : nl->pat_m[pi]);
        pn->middle = pat;
        pn->has_middle = true;
    } else if (nl->mid_f && chance(r, 85)) {
        const char *mid =
            female ? pick(r, nl->mid_f, nl->n_mid_f) : pick(r, nl->mid_m, nl->n_mid_m);
        pn->middle = mid;
        pn->has_middle = true;
    } else if (!nl->pat_m && !nl->mid_f && chance(r, k->names == DEMO_NAMES_NG ? 25 : 5)) {
        size_t mi = rnd(r, (uint32_t)ng);
        if (mi != gi) {
            pn->middle = given[mi];
            pn->has_middle = true;
        }
    }
    return true;
}

static void put_name(demo_gen *g, json_t *o, const person_name *pn)
{
    put_str(g, o, "prs_FirstName", pn->first);
    if (pn->has_middle)
        put_str(g, o, "prs_MiddleName", pn->middle);
    if (pn->second == pn->buf)
        put_strn(o, "prs_SecondName", pn->buf, strlen(pn->buf));
    else
        put_str(g, o, "prs_SecondName", pn->second);
}

/* ---- case pieces ------------------------------------------------------------- */

static int gender_for(rng *r, int primary, char industry)
{
    unsigned fem;
    switch (primary) {
    case X_SEX: {
        unsigned x = rnd(r, 1000);
        if (x < 915)
            return G_F;
        if (x < 950)
            return G_M;
        if (x < 980)
            return G_TF;
        if (x < 985)
            return G_TM;
        if (x < 990)
            return G_NC;
        return G_UNK;
    }
    case X_LAB:
        fem = industry == 'T'   ? 90
              : industry == 'I' ? 60
              : industry == 'G' ? 50
              : industry == 'C' ? 50
              : industry == 'S' ? 60
                                : 25;
        break;
    case X_MARR:
    case X_SURR: fem = 100; break;
    case X_SERV: fem = 80; break;
    case X_BEG: fem = 55; break;
    case X_CHILD: fem = 45; break;
    case X_MIL: fem = 30; break;
    default: fem = 55; break;
    }
    unsigned x = rnd(r, 1000);
    if (x < 8)
        return G_UNK;
    if (x < 10)
        return G_NC;
    return rnd(r, 100) < fem ? G_F : G_M;
}

static int minor_pct(int primary, unsigned flags)
{
    int p;
    switch (primary) {
    case X_SEX: p = 24; break;
    case X_LAB: p = 9; break;
    case X_BEG: p = 55; break;
    case X_MARR: p = 60; break;
    case X_SERV: p = 25; break;
    case X_MIL: p = 85; break;
    case X_CHILD: p = 100; break;
    case X_SURR: p = 0; break;
    default: p = 15; break;
    }
    if ((flags & F_CHILD) && p < 100)
        p += 8;
    return p;
}

static int adult_age(rng *r)
{
    unsigned x = rnd(r, 100);
    if (x < 40)
        return rnd_range(r, 18, 24);
    if (x < 75)
        return rnd_range(r, 25, 34);
    if (x < 92)
        return rnd_range(r, 35, 44);
    return rnd_range(r, 45, 60);
}

static int minor_age(rng *r, int primary)
{
    if (primary == X_MARR || primary == X_MIL)
        return rnd_range(r, 13, 17);
    unsigned x = rnd(r, 100);
    if (x < 42)
        return rnd_range(r, 16, 17);
    if (x < 74)
        return rnd_range(r, 14, 15);
    if (x < 93)
        return rnd_range(r, 10, 13);
    return rnd_range(r, 6, 9);
}

static const char *education_for(rng *r, int age)
{
    if (age < 6)
        return "EarlyChildhoodEducation";
    if (age < 12)
        return "PrimaryEducation";
    if (age < 15)
        return chance(r, 55) ? "PrimaryEducation" : "LowerSecondaryEducation";
    if (age < 18) {
        unsigned x = rnd(r, 100);
        return x < 30   ? "PrimaryEducation"
               : x < 80 ? "LowerSecondaryEducation"
                        : "UpperSecondaryEducation";
    }
    static const char *const lv[] = {"PrimaryEducation",
                                     "LowerSecondaryEducation",
                                     "UpperSecondaryEducation",
                                     "PostSecondaryNonTertiaryEducation",
                                     "ShortCycleTertiaryEducation",
                                     "BachelorsOrEquivalentLevel",
                                     "MastersOrEquivalentLevel"};
    static const uint16_t w[] = {25, 25, 30, 6, 6, 7, 1};
    return lv[pick_w(r, w, COUNT(w))];
}

static const char *marital_for(rng *r, int age)
{
    if (age < 18)
        return "Single";
    static const char *const ms[] = {
        "Single", "Married", "Separated", "Divorced", "RegisteredPartnership", "Widowed"};
    static const uint16_t w[] = {50, 14, 10, 8, 14, 4};
    return ms[pick_w(r, w, COUNT(w))];
}

static const char *exploitation_desc(rng *r, int primary, char industry, bool webcam)
{
    switch (primary) {
    case X_SEX:
        if (webcam)
            return "Forced to perform sexual acts in front of a webcam.";
        {
            static const char *const d[] = {
                "Forced to provide sexual services in a bar.",
                "Held in an apartment and forced into prostitution.",
                "Forced into prostitution and made to hand over all earnings.",
                "Sexually exploited in a night club under constant watch."};
            return pick(r, d, COUNT(d));
        }
    case X_LAB:
        switch (industry) {
        case 'A': return "Worked long hours on a farm without pay.";
        case 'B': return "Worked in an informal gold mine under threat.";
        case 'C': return "Worked in a garment workshop and was not allowed to leave.";
        case 'F': return "Worked on construction sites with wages withheld.";
        case 'G': return "Made to sell goods at a market stall for no wages.";
        case 'H': return "Forced to load and unload lorries day and night.";
        case 'I': return "Worked in a restaurant kitchen for food and lodging only.";
        case 'T': return "Worked as a live-in domestic worker with no days off.";
        default: return "Forced to work in a nail bar without wages.";
        }
    case X_BEG: return "Forced to beg in the streets and hand over the money.";
    case X_MARR: return "Forced into a marriage arranged by relatives.";
    case X_SERV: return "Kept in a household doing unpaid work under constant control.";
    case X_MIL: return "Recruited by an armed group and forced to serve as a lookout.";
    case X_SURR: return "Pressured into a surrogacy arrangement and denied payment.";
    case X_CHILD: return "Made to work instead of attending school.";
    default: return "Forced to transport illicit goods.";
    }
}

static void add_event(demo_gen *g, json_t *events, int seq, const char *type, int c,
                      const char *city, int date, const char *desc)
{
    json_t *e = json_object();
    put_str(g, e, "hte_Type", type);
    put_str(g, e, "hte_Country", countries[c].iso);
    if (city) {
        put_str(g, e, "hte_City", city);
        /* the city's province (no random draw: the rest of the data stays as it was) */
        for (unsigned i = 0; countries[c].provinces && i < countries[c].n_cities; i++) {
            if (strcmp(countries[c].cities[i], city) == 0) {
                put_str(g, e, "hte_State", countries[c].provinces[i]);
                break;
            }
        }
    }
    put_date(g, e, "hte_Date", date);
    if (desc)
        put_str(g, e, "hte_Description", desc);
    put_int(g, e, "amp_EventSequence", seq);
    json_array_append_new(events, e);
}

static const char *city_of(rng *r, int c)
{
    return pick(r, countries[c].cities, countries[c].n_cities);
}

/* ---- public ---------------------------------------------------------------------- */

/* Where each organisation works and what kind of service it is (amp_OrgRegion,
 * amp_OrgCategory): the referral directory and the reports by region use them. */
static const struct {
    const char *id, *region, *category[2];
} org_profiles[] = {
    {"ec-fundacion-alas", "Pichincha", {"NGO", NULL}},
    {"ec-acogida-santa-marta", "Guayas", {"Shelter", "NGO"}},
    {"ec-unidad-trata-zona1", "Imbabura", {"Police", NULL}},
    {"pe-warmi-kallpa", "Cusco", {"NGO", NULL}},
    {"pe-refugio-amazonia", "Madre de Dios", {"Shelter", "NGO"}},
    {"pe-oficina-victimas-tacna", "Tacna", {"LocalAuthority", "SocialService"}},
    {"co-semillas-esperanza", "Norte de Santander", {"Shelter", "NGO"}},
    {"co-ruta-segura", "Antioquia", {"NGO", NULL}},
    {"co-salud-renacer", "Bogotá D.C.", {"HealthService", NULL}},
    {"gt-nim-ja", "Quetzaltenango", {"NGO", NULL}},
    {"gt-hogar-luz-camino", "Guatemala", {"Shelter", "NGO"}},
    {"ua-svitanok", "Vinnytska", {"NGO", NULL}},
    {"ua-nadiinyi-bereh", "Odeska", {"Shelter", "NGO"}},
    {"ua-pravo-poruch", "Kharkivska", {"LegalAid", NULL}},
    {"by-rastan", "Minsk", {"NGO", NULL}},
    {"by-crisis-room-brest", "Brest", {"Shelter", "NGO"}},
    {"md-pragul-sperantei", "Chișinău", {"NGO", NULL}},
    {"md-casa-martisor", "Bălți", {"Shelter", "NGO"}},
    {"md-sectia-antitrafic-cahul", "Cahul", {"Police", NULL}},
};

json_t *demo_gen_organisations(demo_gen *g)
{
    /* A stream of its own, so that the organisations do not depend on how many
     * cases were drawn before. */
    rng r;
    rng_seed(&r, g->seed ^ 0x6f7267616e697361ULL);
    json_t *a = json_array();
    if (!a)
        return NULL;
    for (size_t i = 0; i < N_ORGS; i++) {
        const org_def *od = &orgs[i];
        json_t *o = json_object();
        char phone[24];
        char *p = phone;
        *p++ = '+';
        p = cat(p, od->dial);
        p = cat(p, od->area);
        *p++ = (char)('2' + rnd(&r, 8)); /* local numbers do not start with 0 or 1 */
        p = digits(&r, p, od->rest - 1u);
        *p = 0;
        put_str(g, o, "id", od->id);
        put_str(g, o, "org_Name", od->name);
        put_str(g, o, "org_Type", od->type);
        put_str(g, o, "org_ShippingCountry", countries[od->country].iso);
        put_str(g, o, "org_ShippingCity", od->city);
        put_strn(o, "org_Phone", phone, (size_t)(p - phone));
        put_str(g, o, "amp_OrgCountry", countries[od->country].iso);
        for (size_t k = 0; k < COUNT(org_profiles); k++) {
            if (strcmp(org_profiles[k].id, od->id) != 0)
                continue;
            put_str(g, o, "amp_OrgRegion", org_profiles[k].region);
            json_t *cat = json_array();
            for (int j = 0; j < 2 && org_profiles[k].category[j]; j++)
                json_array_append_new(cat, json_string(org_profiles[k].category[j]));
            json_object_set_new(o, "amp_OrgCategory", cat);
        }
        json_array_append_new(a, o);
    }
    return a;
}

json_t *demo_gen_case(demo_gen *g)
{
    rng *r = &g->r;
    json_t *cs = json_object();
    if (!cs)
        return NULL;

    /* Who registers the case, and the route. */
    unsigned oi = pick_w(r, owner_weights, N_OWNERS);
    int owner = owner_countries[oi];
    const org_def *org =
        &orgs[g->org_lo[oi] + pick_w(r, g->org_w + g->org_lo[oi], g->org_hi[oi] - g->org_lo[oi])];
    const route *rt = &routes[g->route_lo[oi] + pick_w(r, g->route_w + g->route_lo[oi],
                                                       g->route_hi[oi] - g->route_lo[oi])];
    int cit = rt->cit;

    /* The form of exploitation. */
    int types[2];
    int ntypes = 1;
    unsigned x = rnd(r, 100);
    if (x < rt->sex) {
        types[0] = X_SEX;
    } else if (x < (unsigned)rt->sex + rt->lab) {
        types[0] = X_LAB;
    } else {
        uint16_t w[X_COUNT] = {0};
        w[X_BEG] = (rt->flags & F_BEG) ? 45 : 12;
        w[X_SERV] = 25;
        w[X_MARR] = (rt->flags & F_MARR) ? 35 : 8;
        w[X_OTHER] = 10;
        w[X_MIL] = (rt->flags & F_ARMED) ? 45 : 0;
        w[X_SURR] = (rt->flags & F_SURR) ? 12 : 0;
        w[X_CHILD] = (rt->flags & F_CHILD) ? 30 : 10;
        w[X_ORGAN] = 1;
        w[X_ADOPT] = 1;
        types[0] = (int)pick_w(r, w, X_COUNT);
    }
    int primary = types[0];
    char industry = rt->ind[rnd(r, (uint32_t)strlen(rt->ind))];
    if (primary == X_SEX && chance(r, 10)) {
        types[ntypes++] = chance(r, 60) ? X_LAB : X_SERV;
        industry = chance(r, 70) ? 'I' : 'T';
    } else if (primary == X_LAB && chance(r, 6)) {
        types[ntypes++] = chance(r, 50) ? X_SEX : X_SERV;
    } else if (primary == X_MARR && chance(r, 40)) {
        types[ntypes++] = chance(r, 60) ? X_SERV : X_SEX;
    } else if (primary == X_BEG && chance(r, 10)) {
        types[ntypes++] = X_SERV;
    }

    int gender = gender_for(r, primary, industry);
    bool female_names = uses_female_names(r, gender);
    bool minor = chance(r, (unsigned)minor_pct(primary, rt->flags));
    if (primary == X_SURR)
        minor = false;
    int age_target = minor ? minor_age(r, primary) : adult_age(r);
    if (minor && primary == X_LAB) {
        unsigned y = rnd(r, 100);
        if (y < 45)
            types[0] = X_CHILD; /* child labour, not recorded as forced labour */
        else if (y < 75 && ntypes < 2)
            types[ntypes++] = X_CHILD;
    }

    /* Dates: registration, then the route backwards, then the birthdate. */
    int span = g->today - g->reg_start;
    int ra = (int)rnd(r, (uint32_t)span + 1), rb = (int)rnd(r, (uint32_t)span + 1);
    int reg = g->reg_start + (ra > rb ? ra : rb); /* more cases in recent years */
    unsigned dx = rnd(r, 100);
    int delay = dx < 50   ? rnd_range(r, 0, 60)
                : dx < 80 ? rnd_range(r, 61, 365)
                          : rnd_range(r, 366, 1500);
    int d_exp = reg - delay;
    int d_tra = d_exp - rnd_range(r, 1, 45);
    int d_rec = (rt->tra != C_NONE ? d_tra : d_exp) - rnd_range(r, 0, 120);
    int birth = d_exp - (age_target * 365 + age_target / 4) - (int)rnd(r, 365);
    int age_exp = age_at(birth, d_exp);
    int age_now = age_at(birth, g->today);
    int age_reg = age_at(birth, reg);
    minor = age_exp < 18;
    if (!minor) { /* child labour only for children */
        for (int i = 0; i < ntypes; i++)
            if (types[i] == X_CHILD)
                types[i] = X_LAB;
        if (ntypes == 2 && types[0] == types[1])
            ntypes = 1;
    }
    primary = types[0];
    bool has_lab = false, has_sex = false;
    for (int i = 0; i < ntypes; i++) {
        has_lab |= types[i] == X_LAB;
        has_sex |= types[i] == X_SEX;
    }

    /* ---- person --------------------------------------------------------------- */
    person_name pn;
    make_name(r, cit, female_names, &pn);
    put_name(g, cs, &pn);
    bool has_birth = chance(r, 78);
    if (has_birth)
        put_date(g, cs, "prs_Birthdate", birth);
    put_str(g, cs, "prs_Gender", gender_names[gender]);
    {
        json_t *ca = str_array1(g, countries[cit].iso);
        if (cit == C_VE && chance(r, 4))
            json_array_append_new(ca, cstr(g, "CO"));
        else if (cit == C_MD && chance(r, 15))
            json_array_append_new(ca, cstr(g, "RO"));
        set_key(cs, "prs_Citizenship", ca);
    }
    put_str(g, cs, "prs_PrimaryLanguage", language_for(r, cit));
    if (chance(r, minor ? 25 : 50))
        put_str(g, cs, "prs_MaritalStatus", marital_for(r, age_reg));
    if (chance(r, 40)) {
        int kids = 0;
        if (age_reg >= 18) {
            static const uint16_t w[] = {35, 25, 20, 10, 5, 3, 2};
            kids = (int)pick_w(r, w, COUNT(w));
            if (age_reg < 22 && kids > 2)
                kids = 1;
        } else if (age_reg >= 15 && chance(r, 10)) {
            kids = 1;
        }
        put_int(g, cs, "prs_NumberOfChildren", kids);
    }
    if (chance(r, 35))
        put_str(g, cs, "prs_HighestLevelOfEducation", education_for(r, age_reg));
    if (age_reg >= 16 && chance(r, 40)) {
        char id[32];
        size_t n = 0;
        if (has_birth || (countries[cit].idfmt != ID_RO && countries[cit].idfmt != ID_VN &&
                          countries[cit].idfmt != ID_HN))
            n = make_id(r, cit, birth, female_names, id);
        if (n)
            put_strn(cs, "prs_IdentityNumber", id, n);
    }
    int mail_c = -1;
    if (chance(r, 35)) {
        mail_c = chance(r, 80) ? owner : cit;
        put_str(g, cs, "prs_MailingCity", city_of(r, mail_c));
        put_str(g, cs, "prs_MailingCountry", countries[mail_c].iso);
    }
    if (age_now >= 13 && chance(r, 45)) {
        char ph[24];
        int pc = mail_c >= 0 ? mail_c : (chance(r, 75) ? owner : cit);
        size_t n = make_mobile(r, pc, ph);
        put_strn(cs, "prs_MobilePhone", ph, n);
    }
    if (age_now >= 15 && chance(r, 6)) {
        static const char *const dom_latam[] = {"gmail.com", "gmail.com", "hotmail.com",
                                                "yahoo.com", "outlook.com"};
        static const char *const dom_east[] = {"gmail.com", "gmail.com", "ukr.net",
                                               "mail.ru",   "yandex.ru", "outlook.com"};
        char em[128];
        char *p = ascii_fold(em, pn.first_lat, 30);
        *p++ = '.';
        p = ascii_fold(p, pn.second_lat, 30);
        p = num2(p, (unsigned)year_of(birth) % 100);
        *p++ = '@';
        bool east = cit == C_UA || cit == C_BY || cit == C_RU || cit == C_MD;
        p = cat(p,
                east ? pick(r, dom_east, COUNT(dom_east)) : pick(r, dom_latam, COUNT(dom_latam)));
        put_strn(cs, "prs_Email", em, (size_t)(p - em));
    }

    /* ---- victim context --------------------------------------------------------- */
    unsigned sx = rnd(r, 100);
    const char *status = sx < 75   ? "ActualVictimOfTrafficking"
                         : sx < 95 ? "PossibleVictimOfTrafficking"
                                   : "NotAVictimOfTrafficking";
    put_str(g, cs, "vic_TraffickingStatus", status);
    if (status[0] != 'P') {
        static const char *const dm[] = {"Police", "NGO", "CourtOrProsecution",
                                         "NonPoliceGovernmentalOrganization", "Other"};
        static const uint16_t w_ngo[] = {30, 40, 15, 12, 3};
        static const uint16_t w_police[] = {70, 5, 20, 3, 2};
        static const uint16_t w_gov[] = {25, 10, 15, 48, 2};
        const uint16_t *w = strcmp(org->type, "NGO") == 0              ? w_ngo
                            : strcmp(org->type, "LawEnforcement") == 0 ? w_police
                                                                       : w_gov;
        put_str(g, cs, "vic_TraffickingStatusDecisionMakingOrg", dm[pick_w(r, w, 5)]);
    }
    {
        bool fam = primary == X_BEG || primary == X_MARR || primary == X_CHILD || minor;
        unsigned y = rnd(r, 100);
        const char *rel = y < (fam ? 45u : 15u)   ? "Familial"
                          : y < (fam ? 80u : 62u) ? "Acquainted"
                                                  : "Unaquainted";
        if (chance(r, 85))
            put_str(g, cs, "vic_RelationshipToTrafficker", rel);
    }
    if (chance(r, 92))
        put_int(g, cs, "vic_AgeWhenTrafficked", age_exp);
    {
        const uint16_t *rw = has_sex ? recruit_w_sex : has_lab ? recruit_w_lab : recruit_w_other;
        uint16_t w[COUNT(recruitment_names)];
        memcpy(w, rw, sizeof w);
        if (age_exp < 19)
            w[1] += 6; /* at school */
        uint32_t mask = pick_w_distinct(r, w, COUNT(w), chance(r, 75) ? 1 : 2);
        set_key(cs, "vic_MethodOfRecruitment", str_array(g, recruitment_names, mask));
        if ((mask & (1u << 3 | 1u << 4)) && chance(r, 70)) {
            bool east = cit == C_UA || cit == C_BY || cit == C_MD || cit == C_RU;
            bool latam = countries[cit].names == DEMO_NAMES_ES;
            const uint16_t *ww = east ? website_w_east : latam ? website_w_latam : website_w_other;
            uint16_t w2[COUNT(website_names)];
            memcpy(w2, ww, sizeof w2);
            if (year_of(d_rec) < 2018)
                w2[7] = 0; /* TikTok */
            uint32_t m2 = pick_w_distinct(r, w2, COUNT(w2), chance(r, 70) ? 1 : 2);
            set_key(cs, "vic_RecruitmentWebsitesAndApps", str_array(g, website_names, m2));
        }
    }
    {
        const uint16_t *cw = has_sex ? control_w_sex : has_lab ? control_w_lab : control_w_other;
        static const uint16_t nw[] = {25, 35, 25, 15};
        unsigned k = pick_w(r, nw, 4) + 1;
        set_key(cs, "vic_MethodsOfControl",
                str_array(g, control_names, pick_w_distinct(r, cw, COUNT(control_names), k)));
    }
    {
        json_t *ta = json_array();
        for (int i = 0; i < ntypes; i++)
            json_array_append_new(ta, cstr(g, exploitation_names[types[i]]));
        set_key(cs, "vic_TypeOfExploitation", ta);
    }
    if (has_lab && chance(r, 92))
        put_str(g, cs, "vic_ForcedLabourIndustry", industry_name(industry));
    bool webcam = false;
    if (has_sex && chance(r, 90)) {
        uint16_t w[4] = {80, 8, (rt->flags & F_WEBCAM) ? 30 : 5, 10};
        uint32_t mask = pick_w_distinct(r, w, 4, chance(r, 80) ? 1 : 2);
        webcam = mask == 4u;
        set_key(cs, "vic_TypeOfSexExploitation", str_array(g, sexex_names, mask));
    }

    /* ---- case ----------------------------------------------------------------------- */
    int open_days = g->today - reg;
    static const uint16_t st_w[4][4] = {
        {80, 15, 4, 1}, {45, 30, 17, 8}, {15, 25, 45, 15}, {5, 10, 65, 20}};
    int band = open_days < 90 ? 0 : open_days < 365 ? 1 : open_days < 1095 ? 2 : 3;
    unsigned cst = pick_w(r, st_w[band], 4);
    static const char *const st_names[] = {"Active", "FollowUp", "Closed", "ClosedReferred"};
    put_str(g, cs, "cas_Status", st_names[cst]);
    if (cst == 2)
        put_str(g, cs, "cas_ReasonForCaseClosure", pick(r, closure_closed, COUNT(closure_closed)));
    else if (cst == 3)
        put_str(g, cs, "cas_ReasonForCaseClosure",
                pick(r, closure_referred, COUNT(closure_referred)));

    /* ---- consent and registration ---------------------------------------------------- */
    bool consent = chance(r, 93);
    set_key(cs, "con_Consent", json_boolean(consent));
    put_date(g, cs, "amp_ConsentDate", reg);
    if (consent) {
        uint32_t mask = 0;
        if (chance(r, 99))
            mask |= 1;
        if (chance(r, 60))
            mask |= 2;
        if (chance(r, 95))
            mask |= 4;
        if (chance(r, rt->exp != cit || rt->rec != cit ? 40 : 5))
            mask |= 8;
        if (!mask)
            mask = 1;
        static const char *const scope[] = {"Registration", "Referral", "Statistics",
                                            "CrossBorder"};
        set_key(cs, "amp_ConsentScope", str_array(g, scope, mask));
    }
    put_date(g, cs, "amp_RegistrationDate", reg);
    put_str(g, cs, "amp_RegistrationCountry", countries[owner].iso);
    put_str(g, cs, "amp_OwnerOrganisation", org->id);

    /* ---- events (the route) ------------------------------------------------------------ */
    {
        json_t *ev = json_array();
        bool with_rec, with_tra;
        unsigned y = rnd(r, 100);
        if (rt->tra != C_NONE) {
            with_rec = y < 90;
            with_tra = y < 75;
        } else {
            with_rec = y < 75;
            with_tra = false;
        }
        if (rt->tra == owner && rt->rec != owner && rt->exp != owner)
            with_tra = true;
        const char *xcity = rt->xcities ? pick(r, rt->xcities, rt->n_xcities) : city_of(r, rt->exp);
        int seq = 1;
        if (with_rec) {
            const char *rc = city_of(r, rt->rec);
            for (int t = 0; t < 3 && rt->rec == rt->exp && strcmp(rc, xcity) == 0; t++)
                rc = city_of(r, rt->rec);
            const char *d = NULL;
            if (chance(r, 30))
                d = has_sex   ? pick(r, desc_recruit_sex, COUNT(desc_recruit_sex))
                    : has_lab ? pick(r, desc_recruit_lab, COUNT(desc_recruit_lab))
                              : pick(r, desc_recruit_other, COUNT(desc_recruit_other));
            add_event(g, ev, seq++, "Recruitment", rt->rec, chance(r, 95) ? rc : NULL, d_rec, d);
        }
        if (with_tra) {
            const char *d = chance(r, 30) ? pick(r, desc_transit, COUNT(desc_transit)) : NULL;
            add_event(g, ev, seq++, "Transit", rt->tra, chance(r, 90) ? city_of(r, rt->tra) : NULL,
                      d_tra, d);
        }
        const char *d = chance(r, 40) ? exploitation_desc(r, primary, industry, webcam) : NULL;
        add_event(g, ev, seq, "Exploitation", rt->exp, chance(r, 97) ? xcity : NULL, d_exp, d);
        set_key(cs, "events", ev);
    }

    /* ---- perpetrators ---------------------------------------------------------------------- */
    {
        unsigned y = rnd(r, 100);
        int np = y < 30 ? 0 : y < 80 ? 1 : 2;
        json_t *pa = json_array();
        for (int i = 0; i < np; i++) {
            json_t *p = json_object();
            unsigned gx = rnd(r, 100);
            int pg = gx < 64 ? G_M : gx < 97 ? G_F : G_UNK;
            unsigned cx = rnd(r, 100);
            int pc = cx < 60 ? cit : cx < 95 ? rt->exp : (rt->tra != C_NONE ? rt->tra : rt->rec);
            person_name ppn;
            if (pg != G_UNK && chance(r, 40) && make_name(r, pc, pg == G_F, &ppn))
                put_name(g, p, &ppn);
            put_str(g, p, "prs_Gender", gender_names[pg]);
            set_key(p, "prs_Citizenship", str_array1(g, countries[pc].iso));
            uint32_t mask = pick_w_distinct(r, i == 0 ? role_w_first : role_w_next,
                                            COUNT(role_names), chance(r, 70) ? 1 : 2);
            set_key(p, "per_RoleInProcess", str_array(g, role_names, mask));
            json_array_append_new(pa, p);
        }
        set_key(cs, "perpetrators", pa);
    }

    /* ---- comments -----------------------------------------------------------------------------
     */
    {
        unsigned y = rnd(r, 100);
        int nc = y < 35 ? 0 : y < 75 ? 1 : 2;
        json_t *ca = json_array();
        unsigned first = rnd(r, COUNT(comment_texts));
        for (int i = 0; i < nc; i++) {
            json_t *c = json_object();
            put_str(g, c, "cco_CaseComment",
                    comment_texts[(first + (unsigned)i * 5) % COUNT(comment_texts)]);
            json_array_append_new(ca, c);
        }
        set_key(cs, "comments", ca);
    }

    /* ---- support plans --------------------------------------------------------------------------
     */
    {
        unsigned y = rnd(r, 100);
        int ns = y < 25 ? 0 : y < 70 ? 1 : 2;
        uint16_t w[COUNT(spl_names)] = {
            age_reg < 18 ? 30 : 8, 6, 20, has_lab ? 30 : 0, 18, age_reg >= 16 ? 12 : 0, 6,
            has_sex ? 30 : 0,      15};
        uint32_t mask = pick_w_distinct(r, w, COUNT(spl_names), (unsigned)ns);
        json_t *sa = json_array();
        for (unsigned t = 0; mask; t++, mask >>= 1) {
            if (!(mask & 1))
                continue;
            json_t *s = json_object();
            put_str(g, s, "spl_Type", spl_names[t]);
            put_str(g, s, "spl_Objectives", spl_objectives[t][rnd(r, 2)]);
            int planned = reg + rnd_range(r, 60, 540);
            put_date(g, s, "spl_PlannedEndDate", planned);
            int lo = reg + 30;
            int hi = planned + 60 < g->today ? planned + 60 : g->today;
            if (planned - 60 > lo && planned - 60 <= hi)
                lo = planned - 60;
            if (hi >= lo && chance(r, cst >= 2 ? 70 : 25))
                put_date(g, s, "spl_ActualEndDate", rnd_range(r, lo, hi));
            json_array_append_new(sa, s);
        }
        set_key(cs, "support_plans", sa);
    }
    return cs;
}

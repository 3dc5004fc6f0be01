/* names.c — name lists for the demo generator.  Common names only; any
 * combination is fiction. */
#include "demo/names.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Spanish-speaking Latin America ------------------------------------ */
static const char *const es_f[] = {
    "María",   "Ana",       "Luz",       "Carmen",  "Rosa",    "Gabriela",  "Daniela",  "Valentina",
    "Camila",  "Andrea",    "Paola",     "Jessica", "Karina",  "Diana",     "Verónica", "Mayra",
    "Nathaly", "Jennifer",  "Katherine", "Lizbeth", "Mishell", "Erika",     "Evelyn",   "Fernanda",
    "Sofía",   "Alejandra", "Adriana",   "Johana",  "Yesenia", "Milagros",  "Rocío",    "Flor",
    "Marisol", "Wendy",     "Yuliana",   "Dayana",  "Lorena",  "Sandra",    "Gloria",   "Patricia",
    "Juana",   "Micaela",   "Tatiana",   "Yolanda", "Silvia",  "Estefanía", "Génesis",  "Nayeli",
    "Sumak",   "Ingrid",
};
static const char *const es_m[] = {
    "José",      "Luis",      "Carlos",   "Juan",     "Jorge",  "Miguel",    "Pedro",     "Diego",
    "Andrés",    "Fernando",  "Ricardo",  "Manuel",   "Víctor", "Kevin",     "Bryan",     "Jhon",
    "Cristian",  "Edison",    "Wilson",   "Segundo",  "Byron",  "Darwin",    "Franklin",  "Javier",
    "Alexander", "Jefferson", "Anderson", "Santiago", "Mateo",  "Sebastián", "Alejandro", "Óscar",
    "Hugo",      "Rubén",     "Raúl",     "Julio",    "César",  "Marco",     "Fabián",    "Henry",
    "Wilmer",    "Edwin",     "Nelson",   "Walter",   "Freddy", "Eduardo",   "Jesús",     "Ángel",
    "Francisco", "Antonio",
};
static const char *const es_sur[] = {
    "García",  "Rodríguez", "Martínez", "López",    "González", "Hernández", "Pérez",    "Sánchez",
    "Ramírez", "Torres",    "Flores",   "Rivera",   "Gómez",    "Díaz",      "Cruz",     "Morales",
    "Reyes",   "Gutiérrez", "Ortiz",    "Castillo", "Jiménez",  "Vargas",    "Romero",   "Herrera",
    "Medina",  "Aguilar",   "Vega",     "Castro",   "Mendoza",  "Ruiz",      "Chávez",   "Ríos",
    "Salazar", "Ortega",    "Delgado",  "Guerrero", "Paredes",  "Cedeño",    "Zambrano", "Vera",
    "Mora",    "Andrade",   "Benítez",  "Córdova",  "Espinoza", "Villacís",  "Carrillo", "Bravo",
    "Muñoz",   "Rojas",
};

const char *const demo_sur_kichwa[] = {
    "Quishpe", "Tituaña",  "Cabascango", "Lema",      "Pilamunga", "Chuquimarca",
    "Yumbo",   "Tenemaza", "Guachamín",  "Cotacachi", "Farinango", "Guaminga",
    "Caiza",   "Toapanta", "Chicaiza",   "Pillajo",   "Morocho",   "Guamán",
    "Anrango", "Tipán",    "Chimbo",     "Alomoto",   "Lligalo",   "Sisalema",
    "Paucar",  "Tamba",    "Guatemal",   "Cachimuel", "Maigua",    "Inga",
};
const size_t demo_n_sur_kichwa = N(demo_sur_kichwa);

const char *const demo_sur_quechua[] = {
    "Quispe", "Mamani",  "Huamán",  "Condori", "Choque", "Yupanqui",  "Cusi",    "Apaza",
    "Huanca", "Chambi",  "Ticona",  "Ccama",   "Layme",  "Huillca",   "Sucso",   "Puma",
    "Cutipa", "Calcina", "Ccori",   "Huaraca", "Quille", "Pari",      "Limachi", "Copa",
    "Chura",  "Huallpa", "Tintaya", "Colque",  "Yucra",  "Quisocala",
};
const size_t demo_n_sur_quechua = N(demo_sur_quechua);

const char *const demo_sur_maya[] = {
    "Xicará", "Tzoc", "Cux",  "Coc",  "Xol", "Caal",    "Choc",   "Tzul",  "Chen",   "Pop",
    "Tut",    "Cac",  "Yat",  "Batz", "Sic", "Tum",     "Boc",    "Ixcoy", "Tzunún", "Chiquín",
    "Cuc",    "Quej", "Tiul", "Coy",  "Xoy", "Ajcalón", "Ixchop", "Cumes", "Sis",    "Chub",
};
const size_t demo_n_sur_maya = N(demo_sur_maya);

/* ---- Ukrainian ----------------------------------------------------------- */
static const char *const ua_f[] = {
    "Olena",     "Iryna",    "Kateryna", "Tetiana",   "Nataliia",   "Yuliia", "Oksana", "Svitlana",
    "Hanna",     "Mariia",   "Olha",     "Viktoriia", "Anastasiia", "Alina",  "Daryna", "Sofiia",
    "Khrystyna", "Liudmyla", "Halyna",   "Nadiia",    "Valentyna",  "Larysa", "Inna",   "Yana",
    "Zoriana",   "Solomiia", "Vira",     "Liubov",    "Oleksandra", "Maryna",
};
static const char *const ua_f_cyr[] = {
    "Олена",    "Ірина",   "Катерина", "Тетяна",   "Наталія",    "Юлія",   "Оксана", "Світлана",
    "Ганна",    "Марія",   "Ольга",    "Вікторія", "Анастасія",  "Аліна",  "Дарина", "Софія",
    "Христина", "Людмила", "Галина",   "Надія",    "Валентина",  "Лариса", "Інна",   "Яна",
    "Зоряна",   "Соломія", "Віра",     "Любов",    "Олександра", "Марина",
};
static const char *const ua_m[] = {
    "Oleksandr", "Andrii", "Serhii",   "Volodymyr", "Dmytro",  "Mykola",   "Vasyl",    "Ivan",
    "Yurii",     "Oleh",   "Mykhailo", "Petro",     "Taras",   "Bohdan",   "Viktor",   "Ihor",
    "Roman",     "Maksym", "Artem",    "Denys",     "Vitalii", "Yevhen",   "Anatolii", "Pavlo",
    "Ruslan",    "Stepan", "Vadym",    "Oleksii",   "Nazar",   "Hryhorii",
};
static const char *const ua_m_cyr[] = {
    "Олександр", "Андрій", "Сергій",  "Володимир", "Дмитро",  "Микола",   "Василь",   "Іван",
    "Юрій",      "Олег",   "Михайло", "Петро",     "Тарас",   "Богдан",   "Віктор",   "Ігор",
    "Роман",     "Максим", "Артем",   "Денис",     "Віталій", "Євген",    "Анатолій", "Павло",
    "Руслан",    "Степан", "Вадим",   "Олексій",   "Назар",   "Григорій",
};
static const char *const ua_sur[] = {
    "Shevchenko",  "Kovalenko",  "Bondarenko", "Tkachenko",  "Kravchenko", "Melnyk",    "Boiko",
    "Oliinyk",     "Koval",      "Shevchuk",   "Polishchuk", "Lysenko",    "Marchenko", "Rudenko",
    "Savchenko",   "Petrenko",   "Moroz",      "Pavlenko",   "Kravets",    "Levchenko", "Tkachuk",
    "Ponomarenko", "Kharchenko", "Klymenko",   "Zinchenko",  "Hnatiuk",    "Romaniuk",  "Kushnir",
    "Savchuk",     "Vasylenko",  "Honchar",    "Didenko",    "Yakovenko",  "Karpenko",
};
static const char *const ua_sur_cyr[] = {
    "Шевченко",    "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Мельник",  "Бойко",
    "Олійник",     "Коваль",    "Шевчук",     "Поліщук",  "Лисенко",   "Марченко", "Руденко",
    "Савченко",    "Петренко",  "Мороз",      "Павленко", "Кравець",   "Левченко", "Ткачук",
    "Пономаренко", "Харченко",  "Клименко",   "Зінченко", "Гнатюк",    "Романюк",  "Кушнір",
    "Савчук",      "Василенко", "Гончар",     "Діденко",  "Яковенко",  "Карпенко",
};
static const char *const ua_pat_m[] = {
    "Oleksandrovych", "Andriiovych", "Serhiiovych", "Volodymyrovych", "Mykolaiovych", "Vasylovych",
    "Ivanovych",      "Yuriiovych",  "Petrovych",   "Viktorovych",    "Mykhailovych", "Ihorovych",
};
static const char *const ua_pat_f[] = {
    "Oleksandrivna", "Andriivna", "Serhiivna", "Volodymyrivna", "Mykolaivna",  "Vasylivna",
    "Ivanivna",      "Yuriivna",  "Petrivna",  "Viktorivna",    "Mykhailivna", "Ihorivna",
};
static const char *const ua_pat_m_cyr[] = {
    "Олександрович", "Андрійович", "Сергійович", "Володимирович", "Миколайович", "Васильович",
    "Іванович",      "Юрійович",   "Петрович",   "Вікторович",    "Михайлович",  "Ігорович",
};
static const char *const ua_pat_f_cyr[] = {
    "Олександрівна", "Андріївна", "Сергіївна", "Володимирівна", "Миколаївна", "Василівна",
    "Іванівна",      "Юріївна",   "Петрівна",  "Вікторівна",    "Михайлівна", "Ігорівна",
};

/* ---- Belarusian (Latin, as in passports) -------------------------------- */
static const char *const by_f[] = {
    "Volha",       "Katsiaryna", "Tatsiana", "Natallia",  "Iryna",       "Alena",
    "Hanna",       "Maryia",     "Yuliya",   "Sviatlana", "Aliaksandra", "Darya",
    "Anastasiya",  "Viktoryia",  "Kryscina", "Liudmila",  "Halina",      "Nadzeya",
    "Valiantsina", "Yauheniya",  "Palina",   "Alesia",    "Ala",         "Inna",
    "Maryna",      "Veranika",   "Lizaveta", "Yana",      "Ksenia",      "Larysa",
};
static const char *const by_m[] = {
    "Aliaksandr", "Siarhei", "Andrei",      "Dzmitry",    "Uladzimir", "Mikalai",
    "Aliaksei",   "Yauhen",  "Ihar",        "Vasil",      "Ivan",      "Yury",
    "Pavel",      "Viktar",  "Mikhail",     "Artsiom",    "Maksim",    "Dzianis",
    "Anton",      "Raman",   "Kanstantsin", "Uladzislau", "Vadzim",    "Ruslan",
    "Kiryl",      "Ilya",    "Piotr",       "Anatol",     "Valery",    "Stanislau",
};
static const char *const by_sur[] = {
    "Ivanou",     "Kavaliou",     "Novik",    "Kazlou",   "Lukashevich", "Karpovich",
    "Shymanski",  "Makarevich",   "Kuzmich",  "Zhuk",     "Kavalchuk",   "Sidarovich",
    "Bandarenka", "Kavalenka",    "Paulau",   "Marozau",  "Vasilevich",  "Yakimovich",
    "Radzevich",  "Klimovich",    "Savitski", "Lisouski", "Hrynevich",   "Baranau",
    "Sakalou",    "Krautsou",     "Zaitsau",  "Melnikau", "Kuzniatsou",  "Stasevich",
    "Malinouski", "Tsikhanovich",
};
static const char *const by_sur_f[] = {
    "Ivanova",      "Kavaliova",    "Novik",      "Kazlova",    "Lukashevich", "Karpovich",
    "Shymanskaya",  "Makarevich",   "Kuzmich",    "Zhuk",       "Kavalchuk",   "Sidarovich",
    "Bandarenka",   "Kavalenka",    "Paulava",    "Marozava",   "Vasilevich",  "Yakimovich",
    "Radzevich",    "Klimovich",    "Savitskaya", "Lisouskaya", "Hrynevich",   "Baranava",
    "Sakalova",     "Krautsova",    "Zaitsava",   "Melnikava",  "Kuzniatsova", "Stasevich",
    "Malinouskaya", "Tsikhanovich",
};
static const char *const by_pat_m[] = {
    "Aliaksandravich", "Siarheevich", "Andreevich", "Dzmitryevich", "Uladzimiravich",
    "Mikalaevich",     "Ivanavich",   "Piatrovich", "Viktaravich",  "Mikhailavich",
};
static const char *const by_pat_f[] = {
    "Aliaksandrauna", "Siarheeuna", "Andreeuna", "Dzmitryeuna", "Uladzimirauna",
    "Mikalaeuna",     "Ivanauna",   "Piatrouna", "Viktarauna",  "Mikhailauna",
};

/* ---- Russian ------------------------------------------------------------- */
static const char *const ru_f[] = {
    "Yelena",   "Olga",   "Tatyana",    "Natalya",   "Irina",   "Svetlana",  "Yekaterina", "Anna",
    "Mariya",   "Yuliya", "Anastasiya", "Darya",     "Kseniya", "Viktoriya", "Alina",      "Polina",
    "Lyudmila", "Galina", "Nadezhda",   "Valentina", "Larisa",  "Marina",    "Oksana",     "Vera",
    "Lyubov",   "Sofiya", "Yelizaveta", "Yevgeniya", "Alyona",  "Kristina",
};
static const char *const ru_m[] = {
    "Aleksandr", "Sergey",   "Andrey",  "Dmitriy",    "Aleksey",   "Vladimir", "Nikolay", "Ivan",
    "Mikhail",   "Yevgeniy", "Igor",    "Yuriy",      "Pavel",     "Viktor",   "Maksim",  "Artyom",
    "Denis",     "Anton",    "Roman",   "Konstantin", "Vladislav", "Vadim",    "Ruslan",  "Kirill",
    "Ilya",      "Oleg",     "Vitaliy", "Stanislav",  "Boris",     "Gennadiy",
};
static const char *const ru_sur[] = {
    "Ivanov",    "Smirnov",   "Kuznetsov", "Popov",    "Vasilyev", "Petrov",
    "Sokolov",   "Mikhaylov", "Novikov",   "Fyodorov", "Morozov",  "Volkov",
    "Alekseyev", "Lebedev",   "Semyonov",  "Yegorov",  "Pavlov",   "Kozlov",
    "Stepanov",  "Nikolayev", "Orlov",     "Andreyev", "Makarov",  "Nikitin",
    "Zakharov",  "Zaytsev",   "Solovyov",  "Borisov",  "Yakovlev", "Grigoryev",
};
static const char *const ru_sur_f[] = {
    "Ivanova",    "Smirnova",   "Kuznetsova", "Popova",    "Vasilyeva", "Petrova",
    "Sokolova",   "Mikhaylova", "Novikova",   "Fyodorova", "Morozova",  "Volkova",
    "Alekseyeva", "Lebedeva",   "Semyonova",  "Yegorova",  "Pavlova",   "Kozlova",
    "Stepanova",  "Nikolayeva", "Orlova",     "Andreyeva", "Makarova",  "Nikitina",
    "Zakharova",  "Zaytseva",   "Solovyova",  "Borisova",  "Yakovleva", "Grigoryeva",
};
static const char *const ru_pat_m[] = {
    "Aleksandrovich", "Sergeyevich", "Andreyevich", "Dmitriyevich", "Vladimirovich",
    "Nikolayevich",   "Ivanovich",   "Petrovich",   "Viktorovich",  "Mikhaylovich",
};
static const char *const ru_pat_f[] = {
    "Aleksandrovna", "Sergeyevna", "Andreyevna", "Dmitriyevna", "Vladimirovna",
    "Nikolayevna",   "Ivanovna",   "Petrovna",   "Viktorovna",  "Mikhaylovna",
};

/* ---- Romanian / Moldovan -------------------------------------------------- */
static const char *const ro_f[] = {
    "Ana",      "Maria",   "Elena",     "Natalia",   "Tatiana",  "Olga",     "Ludmila",
    "Svetlana", "Galina",  "Valentina", "Nadejda",   "Cristina", "Irina",    "Victoria",
    "Doina",    "Aurelia", "Mariana",   "Lilia",     "Angela",   "Diana",    "Corina",
    "Viorica",  "Daniela", "Alexandra", "Ecaterina", "Violeta",  "Nicoleta", "Iuliana",
    "Mihaela",  "Inga",    "Veronica",  "Adriana",
};
static const char *const ro_m[] = {
    "Ion",    "Vasile",    "Gheorghe", "Nicolae",  "Andrei",  "Mihai",   "Dumitru",   "Sergiu",
    "Victor", "Alexandru", "Vladimir", "Iurie",    "Valeriu", "Igor",    "Veaceslav", "Constantin",
    "Petru",  "Dorin",     "Radu",     "Octavian", "Eugen",   "Denis",   "Cristian",  "Marin",
    "Ștefan", "Adrian",    "Vitalie",  "Artur",    "Pavel",   "Grigore",
};
static const char *const ro_sur[] = {
    "Rusu",   "Ceban",      "Ciobanu", "Popa",     "Cojocaru", "Țurcan",   "Lungu",   "Munteanu",
    "Rotaru", "Moraru",     "Sîrbu",   "Roșca",    "Bălan",    "Cazacu",   "Botnaru", "Gîrlea",
    "Guțu",   "Melnic",     "Popescu", "Ionescu",  "Stratan",  "Bejenaru", "Grosu",   "Codreanu",
    "Damian", "Plămădeală", "Vrabie",  "Secrieru", "Buzdugan", "Croitoru", "Mocanu",  "Bivol",
};

/* ---- Vietnamese ----------------------------------------------------------- */
static const char *const vi_f[] = {
    "Anh",  "Chi",  "Dung",  "Giang", "Hà",    "Hạnh", "Hoa",   "Hương",  "Huyền", "Lan",
    "Linh", "Loan", "Mai",   "My",    "Nga",   "Ngọc", "Nhung", "Phương", "Quỳnh", "Thảo",
    "Thu",  "Thủy", "Trang", "Trinh", "Tuyết", "Vân",  "Yến",   "Hằng",   "Diệp",  "Oanh",
};
static const char *const vi_m[] = {
    "Anh",  "Bình",  "Cường", "Dũng",  "Đức", "Hải",   "Hùng",  "Huy",   "Khoa", "Long",
    "Minh", "Nam",   "Phong", "Quang", "Sơn", "Thắng", "Thành", "Tuấn",  "Việt", "Trung",
    "Hiếu", "Hoàng", "Kiên",  "Lâm",   "Lộc", "Phúc",  "Tài",   "Thịnh", "Toàn", "Vinh",
};
static const char *const vi_sur[] = {
    "Nguyễn", "Trần",   "Lê",  "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ",    "Võ",   "Đặng",
    "Bùi",    "Đỗ",     "Hồ",  "Ngô",  "Dương", "Lý",    "Đinh", "Trịnh", "Đào",  "Mai",
    "Lâm",    "Trương", "Cao", "Chu",  "Lương", "Tạ",    "Tô",   "Hà",    "Kiều", "Đoàn",
};
static const char *const vi_mid_f[] = {
    "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Minh", "Hồng", "Phương",
};
static const char *const vi_mid_m[] = {
    "Văn", "Văn", "Văn", "Đức", "Minh", "Hữu", "Quốc", "Thanh", "Công", "Xuân",
};

/* ---- Nigerian -------------------------------------------------------------- */
static const char *const ng_f[] = {
    "Blessing", "Joy",      "Precious", "Favour",    "Mercy",  "Esther",     "Gift",    "Faith",
    "Osas",     "Osaretin", "Ivie",     "Efe",       "Omoye",  "Itohan",     "Adesuwa", "Chioma",
    "Ngozi",    "Adaeze",   "Chiamaka", "Funmilayo", "Folake", "Yetunde",    "Aisha",   "Comfort",
    "Patience", "Success",  "Peace",    "Happiness", "Glory",  "Osayuwamen",
};
static const char *const ng_m[] = {
    "Osaze",  "Osagie",    "Efosa",      "Osaro",       "Chinedu", "Emeka",  "Obinna", "Uchenna",
    "Tunde",  "Babatunde", "Segun",      "Olumide",     "Ibrahim", "Musa",   "Samuel", "Daniel",
    "Godwin", "Sunday",    "Friday",     "Emmanuel",    "Kelechi", "Ikenna", "Femi",   "Kayode",
    "Nosa",   "Ehis",      "Ikponmwosa", "Osamudiamen", "Uyi",     "Eghosa",
};
static const char *const ng_sur[] = {
    "Osagie",  "Igbinedion", "Omoregie", "Ogbeide",  "Aigbe",    "Edosomwan", "Iyamu", "Osayande",
    "Obaseki", "Uwaifo",     "Okafor",   "Okonkwo",  "Eze",      "Nwosu",     "Okeke", "Obi",
    "Nnamdi",  "Chukwu",     "Adeyemi",  "Ogunleye", "Adebayo",  "Okoro",     "Bello", "Abubakar",
    "Balogun", "Oyelaran",   "Ekpo",     "Etim",     "Ighodaro", "Erhabor",
};

const demo_names demo_name_lists[DEMO_NAMES_COUNT] = {
    [DEMO_NAMES_ES] = {.given_f = es_f,
                       .given_m = es_m,
                       .n_given_f = N(es_f),
                       .n_given_m = N(es_m),
                       .sur = es_sur,
                       .n_sur = N(es_sur)},
    [DEMO_NAMES_UA] = {.given_f = ua_f,
                       .given_m = ua_m,
                       .given_f_cyr = ua_f_cyr,
                       .given_m_cyr = ua_m_cyr,
                       .n_given_f = N(ua_f),
                       .n_given_m = N(ua_m),
                       .sur = ua_sur,
                       .sur_cyr = ua_sur_cyr,
                       .n_sur = N(ua_sur),
                       .pat_m = ua_pat_m,
                       .pat_f = ua_pat_f,
                       .pat_m_cyr = ua_pat_m_cyr,
                       .pat_f_cyr = ua_pat_f_cyr,
                       .n_pat = N(ua_pat_m)},
    [DEMO_NAMES_BY] = {.given_f = by_f,
                       .given_m = by_m,
                       .n_given_f = N(by_f),
                       .n_given_m = N(by_m),
                       .sur = by_sur,
                       .sur_f = by_sur_f,
                       .n_sur = N(by_sur),
                       .pat_m = by_pat_m,
                       .pat_f = by_pat_f,
                       .n_pat = N(by_pat_m)},
    [DEMO_NAMES_RU] = {.given_f = ru_f,
                       .given_m = ru_m,
                       .n_given_f = N(ru_f),
                       .n_given_m = N(ru_m),
                       .sur = ru_sur,
                       .sur_f = ru_sur_f,
                       .n_sur = N(ru_sur),
                       .pat_m = ru_pat_m,
                       .pat_f = ru_pat_f,
                       .n_pat = N(ru_pat_m)},
    [DEMO_NAMES_RO] = {.given_f = ro_f,
                       .given_m = ro_m,
                       .n_given_f = N(ro_f),
                       .n_given_m = N(ro_m),
                       .sur = ro_sur,
                       .n_sur = N(ro_sur)},
    [DEMO_NAMES_VI] = {.given_f = vi_f,
                       .given_m = vi_m,
                       .n_given_f = N(vi_f),
                       .n_given_m = N(vi_m),
                       .sur = vi_sur,
                       .n_sur = N(vi_sur),
                       .mid_f = vi_mid_f,
                       .mid_m = vi_mid_m,
                       .n_mid_f = N(vi_mid_f),
                       .n_mid_m = N(vi_mid_m)},
    [DEMO_NAMES_NG] = {.given_f = ng_f,
                       .given_m = ng_m,
                       .n_given_f = N(ng_f),
                       .n_given_m = N(ng_m),
                       .sur = ng_sur,
                       .n_sur = N(ng_sur)},
};

/* Compile-time checks that parallel arrays line up. */
_Static_assert(N(ua_f) == N(ua_f_cyr), "ua_f");
_Static_assert(N(ua_m) == N(ua_m_cyr), "ua_m");
_Static_assert(N(ua_sur) == N(ua_sur_cyr), "ua_sur");
_Static_assert(N(ua_pat_m) == N(ua_pat_f) && N(ua_pat_m) == N(ua_pat_m_cyr) &&
                   N(ua_pat_m) == N(ua_pat_f_cyr),
               "ua_pat");
_Static_assert(N(by_sur) == N(by_sur_f), "by_sur");
_Static_assert(N(by_pat_m) == N(by_pat_f), "by_pat");
_Static_assert(N(ru_sur) == N(ru_sur_f), "ru_sur");
_Static_assert(N(ru_pat_m) == N(ru_pat_f), "ru_pat");

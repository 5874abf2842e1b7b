//! Realistic values by locale: person names (first and last, native script and Latin
//! transliteration), cities, street addresses, postcodes, phone numbers (national and E.164)
//! and company names for seven locales, shipped with the crate so the same seed gives the same
//! bytes on every machine. Order matters: it is part of what a seed means.
//!
//! Names in Japanese and Chinese are written family name first (`山田 太郎`, `王伟`); e-mail
//! addresses made from them use the Latin forms (`taro.yamada`, `wei.wang`).

/// One locale's lists. Names are `(native, latin)`.
pub struct Locale {
    pub code: &'static str,
    pub first: &'static [(&'static str, &'static str)],
    pub last: &'static [(&'static str, &'static str)],
    /// Family name first, and whether a space separates the two.
    pub family_first: bool,
    pub spaced: bool,
    pub cities: &'static [&'static str],
    pub streets: &'static [&'static str],
    /// `{n}` the house number, `{s}` the street.
    pub street_format: &'static str,
    /// A `pattern` generator format.
    pub postcode: &'static str,
    pub phone_national: &'static str,
    pub phone_e164: &'static str,
    pub company_suffixes: &'static [&'static str],
}

pub const CODES: &str = "en_US, en_GB, de_DE, fr_FR, es_ES, ja_JP, zh_CN";

pub fn get(code: &str) -> Option<&'static Locale> {
    LOCALES.iter().find(|l| l.code == code)
}

/// The Latin form of a name written with any of the locales' names (`山田 太郎` → `yamada taro`,
/// `王伟` → `wang wei`): known names are matched longest first; other letters are kept when
/// ASCII and dropped otherwise.
pub fn latin(name: &str) -> String {
    let mut out = String::new();
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() || c == '-' || c == '\'' {
            out.push(' ');
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let known = LOCALES
            .iter()
            .flat_map(|l| l.first.iter().chain(l.last.iter()))
            .filter(|(native, _)| rest.starts_with(native))
            .max_by_key(|(native, _)| native.len());
        match known {
            Some((native, latin)) => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                out.push_str(&latin.to_lowercase());
                out.push(' ');
                rest = &rest[native.len()..];
            }
            None => {
                if c.is_ascii_alphanumeric() {
                    out.push(c.to_ascii_lowercase());
                }
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first and last name of a full name, in Latin lower case (`山田 太郎` → (`taro`,
/// `yamada`); `Ana García` → (`ana`, `garcia`)). Names in a family-first script are recognised
/// by their lists; any other name is read first name first.
pub fn first_last(name: &str) -> (String, String) {
    let family_first = LOCALES.iter().filter(|l| l.family_first).any(|l| {
        l.last
            .iter()
            .any(|(native, _)| name.trim_start().starts_with(native))
    });
    let tokens: Vec<String> = latin(name).split(' ').map(str::to_string).collect();
    let (a, b) = match tokens.as_slice() {
        [] => (String::new(), String::new()),
        [one] => (one.clone(), String::new()),
        [first, .., last] => (first.clone(), last.clone()),
    };
    if family_first { (b, a) } else { (a, b) }
}

pub static LOCALES: &[Locale] = &[
    Locale {
        code: "en_US",
        first: &[
            ("James", "James"),
            ("Mary", "Mary"),
            ("Robert", "Robert"),
            ("Patricia", "Patricia"),
            ("John", "John"),
            ("Jennifer", "Jennifer"),
            ("Michael", "Michael"),
            ("Linda", "Linda"),
            ("David", "David"),
            ("Elizabeth", "Elizabeth"),
            ("Carlos", "Carlos"),
            ("Aaliyah", "Aaliyah"),
            ("Wei", "Wei"),
            ("Priya", "Priya"),
            ("Tyrone", "Tyrone"),
            ("Emily", "Emily"),
        ],
        last: &[
            ("Smith", "Smith"),
            ("Johnson", "Johnson"),
            ("Williams", "Williams"),
            ("Brown", "Brown"),
            ("Jones", "Jones"),
            ("Garcia", "Garcia"),
            ("Miller", "Miller"),
            ("Davis", "Davis"),
            ("Rodriguez", "Rodriguez"),
            ("Martinez", "Martinez"),
            ("O'Brien", "OBrien"),
            ("Nguyen", "Nguyen"),
            ("Patel", "Patel"),
            ("Kim", "Kim"),
            ("Jackson", "Jackson"),
            ("Lee", "Lee"),
        ],
        family_first: false,
        spaced: true,
        cities: &[
            "New York",
            "Los Angeles",
            "Chicago",
            "Houston",
            "Phoenix",
            "Philadelphia",
            "San Antonio",
            "San Diego",
            "Dallas",
            "Austin",
            "Seattle",
            "Denver",
        ],
        streets: &[
            "Main Street",
            "Oak Avenue",
            "Maple Drive",
            "Cedar Lane",
            "Park Avenue",
            "Elm Street",
            "Washington Boulevard",
            "Lakeview Drive",
            "Sunset Boulevard",
            "Pine Street",
        ],
        street_format: "{n} {s}",
        postcode: "#####",
        phone_national: "(###) ###-####",
        phone_e164: "+1##########",
        company_suffixes: &["Inc.", "LLC", "Corp.", "Group"],
    },
    Locale {
        code: "en_GB",
        first: &[
            ("Oliver", "Oliver"),
            ("Amelia", "Amelia"),
            ("George", "George"),
            ("Olivia", "Olivia"),
            ("Harry", "Harry"),
            ("Isla", "Isla"),
            ("Jack", "Jack"),
            ("Emily", "Emily"),
            ("Noah", "Noah"),
            ("Sophie", "Sophie"),
            ("Mohammed", "Mohammed"),
            ("Siobhan", "Siobhan"),
        ],
        last: &[
            ("Smith", "Smith"),
            ("Jones", "Jones"),
            ("Taylor", "Taylor"),
            ("Brown", "Brown"),
            ("Williams", "Williams"),
            ("Wilson", "Wilson"),
            ("Evans", "Evans"),
            ("Thomas", "Thomas"),
            ("Roberts", "Roberts"),
            ("Khan", "Khan"),
            ("Walker", "Walker"),
            ("Wright", "Wright"),
        ],
        family_first: false,
        spaced: true,
        cities: &[
            "London",
            "Birmingham",
            "Manchester",
            "Leeds",
            "Glasgow",
            "Liverpool",
            "Bristol",
            "Sheffield",
            "Edinburgh",
            "Cardiff",
            "Belfast",
            "Nottingham",
        ],
        streets: &[
            "High Street",
            "Station Road",
            "Church Lane",
            "Victoria Road",
            "Green Lane",
            "Manor Road",
            "Park Road",
            "The Crescent",
            "Mill Lane",
            "Queen's Road",
        ],
        street_format: "{n} {s}",
        postcode: "??# #??",
        phone_national: "0#### ######",
        phone_e164: "+44##########",
        company_suffixes: &["Ltd", "PLC", "& Sons", "Group"],
    },
    Locale {
        code: "de_DE",
        first: &[
            ("Lukas", "Lukas"),
            ("Anna", "Anna"),
            ("Jürgen", "Juergen"),
            ("Sophie", "Sophie"),
            ("Maximilian", "Maximilian"),
            ("Marie", "Marie"),
            ("Felix", "Felix"),
            ("Jörg", "Joerg"),
            ("Leonie", "Leonie"),
            ("Paul", "Paul"),
            ("Käthe", "Kaethe"),
            ("Mehmet", "Mehmet"),
        ],
        last: &[
            ("Müller", "Mueller"),
            ("Schmidt", "Schmidt"),
            ("Schneider", "Schneider"),
            ("Fischer", "Fischer"),
            ("Weber", "Weber"),
            ("Meyer", "Meyer"),
            ("Wagner", "Wagner"),
            ("Becker", "Becker"),
            ("Schäfer", "Schaefer"),
            ("Koch", "Koch"),
            ("Groß", "Gross"),
            ("Yılmaz", "Yilmaz"),
        ],
        family_first: false,
        spaced: true,
        cities: &[
            "Berlin",
            "Hamburg",
            "München",
            "Köln",
            "Frankfurt am Main",
            "Stuttgart",
            "Düsseldorf",
            "Leipzig",
            "Dortmund",
            "Essen",
            "Bremen",
            "Nürnberg",
        ],
        streets: &[
            "Hauptstraße",
            "Schulstraße",
            "Gartenstraße",
            "Bahnhofstraße",
            "Dorfstraße",
            "Bergstraße",
            "Lindenstraße",
            "Kirchweg",
            "Am Markt",
            "Goethestraße",
        ],
        street_format: "{s} {n}",
        postcode: "#####",
        phone_national: "0### #######",
        phone_e164: "+49##########",
        company_suffixes: &["GmbH", "AG", "KG", "GmbH & Co. KG"],
    },
    Locale {
        code: "fr_FR",
        first: &[
            ("Gabriel", "Gabriel"),
            ("Léa", "Lea"),
            ("Louis", "Louis"),
            ("Chloé", "Chloe"),
            ("Hugo", "Hugo"),
            ("Manon", "Manon"),
            ("Théo", "Theo"),
            ("Inès", "Ines"),
            ("Jules", "Jules"),
            ("Camille", "Camille"),
            ("François", "Francois"),
            ("Zoé", "Zoe"),
        ],
        last: &[
            ("Martin", "Martin"),
            ("Bernard", "Bernard"),
            ("Dubois", "Dubois"),
            ("Thomas", "Thomas"),
            ("Robert", "Robert"),
            ("Richard", "Richard"),
            ("Petit", "Petit"),
            ("Durand", "Durand"),
            ("Lefèvre", "Lefevre"),
            ("Moreau", "Moreau"),
            ("Benoît", "Benoit"),
            ("Girard", "Girard"),
        ],
        family_first: false,
        spaced: true,
        cities: &[
            "Paris",
            "Marseille",
            "Lyon",
            "Toulouse",
            "Nice",
            "Nantes",
            "Strasbourg",
            "Montpellier",
            "Bordeaux",
            "Lille",
            "Rennes",
            "Saint-Étienne",
        ],
        streets: &[
            "rue de la Paix",
            "avenue Victor Hugo",
            "rue du Général Leclerc",
            "boulevard Voltaire",
            "rue de l'Église",
            "place de la République",
            "rue Pasteur",
            "avenue Jean Jaurès",
            "rue des Écoles",
            "chemin du Moulin",
        ],
        street_format: "{n} {s}",
        postcode: "#####",
        phone_national: "0# ## ## ## ##",
        phone_e164: "+33#########",
        company_suffixes: &["SA", "SARL", "SAS", "et Fils"],
    },
    Locale {
        code: "es_ES",
        first: &[
            ("Hugo", "Hugo"),
            ("Lucía", "Lucia"),
            ("Martín", "Martin"),
            ("Sofía", "Sofia"),
            ("Pablo", "Pablo"),
            ("María", "Maria"),
            ("Álvaro", "Alvaro"),
            ("Paula", "Paula"),
            ("Alejandro", "Alejandro"),
            ("Carmen", "Carmen"),
            ("Íñigo", "Inigo"),
            ("Nuria", "Nuria"),
        ],
        last: &[
            ("García", "Garcia"),
            ("Rodríguez", "Rodriguez"),
            ("González", "Gonzalez"),
            ("Fernández", "Fernandez"),
            ("López", "Lopez"),
            ("Martínez", "Martinez"),
            ("Sánchez", "Sanchez"),
            ("Pérez", "Perez"),
            ("Gómez", "Gomez"),
            ("Muñoz", "Munoz"),
            ("Jiménez", "Jimenez"),
            ("Ruiz", "Ruiz"),
        ],
        family_first: false,
        spaced: true,
        cities: &[
            "Madrid",
            "Barcelona",
            "Valencia",
            "Sevilla",
            "Zaragoza",
            "Málaga",
            "Murcia",
            "Palma",
            "Bilbao",
            "Alicante",
            "Córdoba",
            "Valladolid",
        ],
        streets: &[
            "Calle Mayor",
            "Calle Real",
            "Avenida de la Constitución",
            "Plaza de España",
            "Calle del Sol",
            "Paseo de Gracia",
            "Calle Nueva",
            "Avenida de Andalucía",
            "Calle de Alcalá",
            "Camino Viejo",
        ],
        street_format: "{s}, {n}",
        postcode: "#####",
        phone_national: "### ## ## ##",
        phone_e164: "+34#########",
        company_suffixes: &["S.A.", "S.L.", "y Asociados", "Hermanos"],
    },
    Locale {
        code: "ja_JP",
        first: &[
            ("太郎", "Taro"),
            ("花子", "Hanako"),
            ("翔", "Sho"),
            ("陽菜", "Hina"),
            ("大翔", "Hiroto"),
            ("結衣", "Yui"),
            ("蓮", "Ren"),
            ("さくら", "Sakura"),
            ("健太", "Kenta"),
            ("美咲", "Misaki"),
            ("拓海", "Takumi"),
            ("愛", "Ai"),
        ],
        last: &[
            ("佐藤", "Sato"),
            ("鈴木", "Suzuki"),
            ("高橋", "Takahashi"),
            ("田中", "Tanaka"),
            ("伊藤", "Ito"),
            ("渡辺", "Watanabe"),
            ("山本", "Yamamoto"),
            ("中村", "Nakamura"),
            ("小林", "Kobayashi"),
            ("加藤", "Kato"),
            ("山田", "Yamada"),
            ("吉田", "Yoshida"),
        ],
        family_first: true,
        spaced: true,
        cities: &[
            "東京",
            "横浜",
            "大阪",
            "名古屋",
            "札幌",
            "福岡",
            "神戸",
            "京都",
            "川崎",
            "さいたま",
            "広島",
            "仙台",
        ],
        streets: &[
            "中央", "本町", "栄町", "緑町", "桜台", "旭町", "若葉", "幸町", "新町", "東町",
        ],
        street_format: "{s}{n}丁目",
        postcode: "###-####",
        phone_national: "0#-####-####",
        phone_e164: "+81#########",
        company_suffixes: &["株式会社", "有限会社", "合同会社"],
    },
    Locale {
        code: "zh_CN",
        first: &[
            ("伟", "Wei"),
            ("芳", "Fang"),
            ("娜", "Na"),
            ("敏", "Min"),
            ("静", "Jing"),
            ("强", "Qiang"),
            ("磊", "Lei"),
            ("洋", "Yang"),
            ("秀英", "Xiuying"),
            ("杰", "Jie"),
            ("丽", "Li"),
            ("军", "Jun"),
        ],
        last: &[
            ("王", "Wang"),
            ("李", "Li"),
            ("张", "Zhang"),
            ("刘", "Liu"),
            ("陈", "Chen"),
            ("杨", "Yang"),
            ("黄", "Huang"),
            ("赵", "Zhao"),
            ("吴", "Wu"),
            ("周", "Zhou"),
            ("欧阳", "Ouyang"),
            ("徐", "Xu"),
        ],
        family_first: true,
        spaced: false,
        cities: &[
            "北京", "上海", "广州", "深圳", "成都", "杭州", "武汉", "西安", "南京", "重庆", "天津",
            "苏州",
        ],
        streets: &[
            "人民路",
            "解放路",
            "中山路",
            "建设路",
            "和平路",
            "新华路",
            "长江路",
            "胜利路",
            "光明街",
            "文化路",
        ],
        street_format: "{s}{n}号",
        postcode: "######",
        phone_national: "1##-####-####",
        phone_e164: "+861##########",
        company_suffixes: &["有限公司", "股份有限公司", "集团"],
    },
];

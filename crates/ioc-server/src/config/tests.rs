//! Loading and validation of settings, and `config/base.toml` against the
//! built-in defaults.

use ioc_core::Status;
use ioc_store::DatabaseUrl;

use super::*;

fn load(text: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
    let dir = std::env::temp_dir().join(format!(
        "ioc-config-test-{}-{}",
        std::process::id(),
        text.len()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("ioc.toml");
    std::fs::write(&path, text).expect("write config");
    let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    let result = Settings::load_from(Some(&path), env);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[test]
fn base_toml_documents_every_key_with_its_default() {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/base.toml");
    let text = std::fs::read_to_string(&base).expect("config/base.toml");
    let mut values = BTreeMap::new();
    let mut problems = Vec::new();
    read_file("base.toml", &text, &mut values, &mut problems);
    let mut reader = Reader {
        values,
        problems,
        defaulted: Vec::new(),
        shown: Vec::new(),
    };
    let from_file = Settings::read(&mut reader, "base.toml".to_owned(), Path::new("config"));
    assert_eq!(reader.problems, [], "base.toml must be valid");
    assert_eq!(
        reader.defaulted,
        Vec::<&str>::new(),
        "keys missing from base.toml"
    );
    assert!(
        reader.values.is_empty(),
        "unknown keys in base.toml: {:?}",
        reader.values.keys()
    );

    let mut defaults = Reader {
        values: BTreeMap::new(),
        problems: Vec::new(),
        defaulted: Vec::new(),
        shown: Vec::new(),
    };
    let built_in = Settings::read(&mut defaults, "defaults".to_owned(), Path::new("config"));
    assert_eq!(
        format!("{:?}", from_file.server),
        format!("{:?}", built_in.server)
    );
    assert_eq!(
        format!("{:?}", from_file.database),
        format!("{:?}", built_in.database)
    );
    assert_eq!(from_file.timeliness, built_in.timeliness);
    // The file names reference files under its directory; the defaults are
    // the same files as built in.
    let builtin = format!("{}/", crate::builtin::base().display());
    let same_files = |file: String, default: String| {
        assert_eq!(
            file.replace("\"config/", "\""),
            default.replace(&builtin, "")
        );
    };
    same_files(
        format!("{:?}", from_file.units),
        format!("{:?}", built_in.units),
    );
    same_files(
        format!("{:?}", from_file.procedures),
        format!("{:?}", built_in.procedures),
    );
    same_files(
        format!("{:?}", from_file.campaigns),
        format!("{:?}", built_in.campaigns),
    );
    same_files(
        format!("{:?}", from_file.scoring),
        format!("{:?}", built_in.scoring),
    );
    same_files(
        format!("{:?}", from_file.calendar),
        format!("{:?}", built_in.calendar),
    );
    same_files(
        format!("{:?}", from_file.alerts),
        format!("{:?}", built_in.alerts),
    );
    assert_eq!(from_file.log, built_in.log);
    assert_eq!(from_file.ingest, built_in.ingest);
    assert_eq!(from_file.rankings, built_in.rankings);
    assert_eq!(from_file.auth, built_in.auth);
    assert_eq!(from_file.stream, built_in.stream);
    assert_eq!(from_file.metrics, built_in.metrics);
}

#[test]
fn environment_overrides_the_file() {
    let settings = load(
        "[server]\nbind = \"127.0.0.1:9000\"\n",
        &[
            ("IOC__SERVER__BIND", "127.0.0.1:0"),
            ("IOC__DATABASE__URL", "postgres://ioc@db/ioc"),
            ("IOC__DATABASE__MAX_CONNECTIONS", "3"),
            ("IOC__UNITS__LEVELS", "[\"province\", \"commune\"]"),
            ("IOC_TEST_PG_URL", "ignored: single underscore"),
        ],
    )
    .expect("valid");
    assert_eq!(settings.server.bind.port(), 0);
    assert_eq!(
        settings.database.url,
        DatabaseUrl::Postgres("postgres://ioc@db/ioc".to_owned())
    );
    assert_eq!(settings.database.max_connections, 3);
    assert_eq!(settings.units.levels.names(), ["province", "commune"]);
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = load(
        "[server]\nbind = \"everywhere\"\nworkers = \"four\"\n\n[database]\nurl = \"mysql://x\"\n\n[time]\nzone = \"Asia/Hanoi\"\n\n[sever]\nport = 1\n",
        &[("IOC__LOG__FORMAT", "xml"), ("IOC__NOPE", "1")],
    )
    .unwrap_err()
    .0;
    let keys: Vec<&str> = errors.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "nope",
            "server.bind",
            "server.workers",
            "database.url",
            "time.zone",
            "log.format",
            "sever.port"
        ],
        "{errors:#?}"
    );
    let text = ConfigErrors(errors).to_string();
    assert!(
        text.starts_with("7 problems in the configuration"),
        "{text}"
    );
    assert!(
        text.contains("log.format (from IOC__LOG__FORMAT): unknown log format \"xml\""),
        "{text}"
    );
    assert!(text.contains("server.workers (from "), "{text}");
    assert!(
        text.contains("expected a whole number, found string \"four\""),
        "{text}"
    );
    assert!(
        text.contains("sever.port (from ") && text.contains("unknown key"),
        "{text}"
    );
}

#[test]
fn status_maps_are_read_per_source() {
    let settings = load(
        "[ingest]\nstatus_map = { tinh = { \"11\" = 4, interoperating = 4 } }\n",
        &[],
    )
    .expect("valid");
    let tinh = &settings.ingest.status_map["tinh"];
    assert_eq!(tinh["11"], Status::Processing);
    assert_eq!(tinh["interoperating"], Status::Processing);
    let errors = load("[ingest]\nstatus_map = { tinh = { \"11\" = 12 } }\n", &[])
        .unwrap_err()
        .0;
    assert_eq!(errors[0].key, "ingest.status_map.tinh.11");
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    let errors = load("[server\nbind = 1\n", &[]).unwrap_err().0;
    assert_eq!(errors.len(), 1);
    assert!(errors[0].origin.ends_with("ioc.toml"), "{:?}", errors[0]);
    assert!(errors[0].message.contains("line 1"), "{:?}", errors[0]);
}

#[test]
fn an_explicit_missing_file_is_an_error() {
    let errors = Settings::load_from(Some(Path::new("/nonexistent/ioc.toml")), [])
        .unwrap_err()
        .0;
    assert_eq!(errors[0].key, "--config");
}

#[test]
fn relative_reference_paths_follow_the_config_file() {
    let dir = std::env::temp_dir().join(format!("ioc-config-paths-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("ioc.toml");
    std::fs::write(&path, "[procedures]\nfiles = [\"p.csv\", \"/abs/q.csv\"]\n").expect("write");
    let settings = Settings::load_from(Some(&path), []).expect("valid");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        settings.procedures.files,
        [dir.join("p.csv"), PathBuf::from("/abs/q.csv")]
    );
}

#[test]
fn reference_files_a_config_file_does_not_name_are_the_built_in_ones() {
    let dir = std::env::temp_dir().join(format!("ioc-config-defaults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("ioc.toml");
    std::fs::write(&path, "[server]\nbind = \"127.0.0.1:9\"\n").expect("write");
    let settings = Settings::load_from(Some(&path), []).expect("valid");
    let _ = std::fs::remove_dir_all(&dir);
    let builtin = crate::builtin::base();
    assert_eq!(
        settings.units.files,
        [
            builtin.join("units/binh_phuoc.csv"),
            builtin.join("units/binh_phuoc_departments.csv")
        ]
    );
    assert_eq!(
        settings.procedures.files,
        [builtin.join("procedures/sample_catalog.csv")]
    );
}

#[test]
fn show_names_where_each_value_came_from_and_hides_secrets() {
    let settings = load(
        "[server]\nbind = \"127.0.0.1:9000\"\n\n[metrics]\ntoken = \"s3cret-metrics\"\n",
        &[
            ("IOC__DATABASE__URL", "postgres://ioc:hunter2@db/ioc"),
            ("IOC__SERVER__WORKERS", "3"),
        ],
    )
    .expect("valid");
    let shown = settings.show();
    let line = |key: &str| {
        shown
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("{key} missing from:\n{shown}"))
            .to_owned()
    };
    assert!(line("server.bind").starts_with("server.bind = \"127.0.0.1:9000\"  # "));
    assert!(
        line("server.bind").ends_with("ioc.toml"),
        "{}",
        line("server.bind")
    );
    assert_eq!(
        line("server.workers"),
        "server.workers = 3  # IOC__SERVER__WORKERS"
    );
    assert_eq!(
        line("rankings.min_volume"),
        "rankings.min_volume = 1  # built-in"
    );
    assert!(
        line("metrics.token").starts_with("metrics.token = \"(hidden)\"  # "),
        "{}",
        line("metrics.token")
    );
    assert!(!shown.contains("s3cret-metrics"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        line("database.url").contains("@db/ioc\"  # IOC__DATABASE__URL"),
        "{}",
        line("database.url")
    );
    // Every key of base.toml is shown once.
    let keys: Vec<&str> = shown
        .lines()
        .map(|l| l.split(" = ").next().unwrap_or(""))
        .collect();
    let mut unique = keys.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), keys.len(), "a key shown twice:\n{shown}");
    assert!(keys.contains(&"alerts.file") && keys.contains(&"ingest.status_map"));
}

#[test]
fn the_shipped_reform_files_pass_config_check() {
    let env = [
        (
            "IOC__UNITS__VERSIONS".to_owned(),
            "[\"units/dong_nai_versions.csv\"]".to_owned(),
        ),
        (
            "IOC__UNITS__EDGES".to_owned(),
            "[\"units/dong_nai_predecessors.csv\"]".to_owned(),
        ),
    ];
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/base.toml");
    let settings = Settings::load_from(Some(&base), env).expect("valid");
    let summary = crate::commands::check::check_config(&settings).expect("no problem");
    assert!(
        summary.contains("(407 versions through reforms, 271 edges)"),
        "{summary}"
    );
    let edges_alone = [(
        "IOC__UNITS__EDGES".to_owned(),
        "[\"units/dong_nai_predecessors.csv\"]".to_owned(),
    )];
    let settings = Settings::load_from(Some(&base), edges_alone).expect("valid");
    let problems = crate::commands::check::check_config(&settings).expect_err("edges alone");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("units.edges is set without units.versions")),
        "{problems:?}"
    );
}

#[test]
fn config_check_names_calendar_problems_and_warns_when_this_year_is_missing() {
    let dir = std::env::temp_dir().join(format!("ioc-config-calendar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/base.toml");
    let check = |text: &str| {
        let file = dir.join("calendar.toml");
        std::fs::write(&file, text).expect("write");
        let env = [("IOC__CALENDAR__FILE".to_owned(), file.display().to_string())];
        let settings = Settings::load_from(Some(&base), env).expect("valid");
        crate::commands::check::check_config(&settings)
    };
    let overlapping = "[[year]]\nyear = 2022\noff = [\n  { date = \"2022-01-01\", name = \"A\", basis = \"B\" },\n  { date = \"2022-01-01\", name = \"A\", basis = \"B\" },\n]\n";
    let problems = check(overlapping).expect_err("an overlapping day");
    assert!(
        problems.iter().any(|p| p.ends_with(
            "calendar.toml:5: field `off`: 2022-01-01 is listed twice (overlapping days)"
        )),
        "{problems:?}"
    );
    let summary = check("[[year]]\nyear = 2022\n").expect("valid");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(summary.contains("working days of 2022"), "{summary}");
    assert!(
        summary.contains("warning: ") && summary.contains("has no table for"),
        "{summary}"
    );
}

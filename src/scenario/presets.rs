//! The presets of `assets/scenarios/`, built into the program: the viewer's lessons (on the
//! desktop and in the browser, which has no files), each with the explanation its file gives.

/// (menu group, file name, text).
pub const PRESETS: &[(&str, &str, &str)] = &[
    (
        "Three axes",
        "paracrine_border_zone.toml",
        include_str!("../../assets/scenarios/paracrine_border_zone.toml"),
    ),
    (
        "Three axes",
        "paracrine_remote.toml",
        include_str!("../../assets/scenarios/paracrine_remote.toml"),
    ),
    (
        "Three axes",
        "autocrine_on.toml",
        include_str!("../../assets/scenarios/autocrine_on.toml"),
    ),
    (
        "Three axes",
        "autocrine_off.toml",
        include_str!("../../assets/scenarios/autocrine_off.toml"),
    ),
    (
        "Three axes",
        "endocrine_iv.toml",
        include_str!("../../assets/scenarios/endocrine_iv.toml"),
    ),
    (
        "Routes",
        "intramyocardial.toml",
        include_str!("../../assets/scenarios/intramyocardial.toml"),
    ),
    (
        "Routes",
        "transendocardial.toml",
        include_str!("../../assets/scenarios/transendocardial.toml"),
    ),
    (
        "Routes",
        "intracoronary.toml",
        include_str!("../../assets/scenarios/intracoronary.toml"),
    ),
    (
        "Routes",
        "intravenous.toml",
        include_str!("../../assets/scenarios/intravenous.toml"),
    ),
    (
        "Routes",
        "intramuscular.toml",
        include_str!("../../assets/scenarios/intramuscular.toml"),
    ),
    (
        "Routes",
        "subcutaneous.toml",
        include_str!("../../assets/scenarios/subcutaneous.toml"),
    ),
    (
        "Routes",
        "bolus.toml",
        include_str!("../../assets/scenarios/bolus.toml"),
    ),
];

/// A preset's text by its file name (`intramyocardial.toml`).
pub fn preset(file: &str) -> Option<&'static str> {
    PRESETS
        .iter()
        .find(|(_, f, _)| *f == file)
        .map(|(_, _, t)| *t)
}

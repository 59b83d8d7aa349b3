//! Rebuild when a migration, model or check is added, removed or edited, and embed the models and
//! the data checks. `embed_migrations!` reads the migration folders at compile time; the models
//! (`migrations/<pipeline>/models/*.sql`) and checks (`migrations/<pipeline>/checks/*.sql`) are
//! listed here into `$OUT_DIR/sql_<pipeline>.rs`, which each pipeline includes as its `MODELS`
//! and `CHECKS`.

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    for pipeline in ["movies", "rollup"] {
        let mut out = String::new();
        for (kind, constant) in [("models", "MODELS"), ("checks", "CHECKS")] {
            list(pipeline, kind, constant, &mut out);
        }
        let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join(format!("sql_{pipeline}.rs"));
        std::fs::write(dest, out).unwrap();
    }
}

/// `pub const CONSTANT: &[(&str, &str)]`: (name, text) of every `.sql` file in
/// `migrations/<pipeline>/<kind>/`, by name.
fn list(pipeline: &str, kind: &str, constant: &str, out: &mut String) {
    writeln!(
            out,
            "/// (name, SQL) of every file of migrations/{pipeline}/{kind}/ built into the binary.\npub const {constant}: &[(&str, &str)] = &["
        )
        .unwrap();
    let dir = Path::new("migrations").join(pipeline).join(kind);
    println!("cargo:rerun-if-changed={}", dir.display());
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .collect();
        files.sort();
        for path in files {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let absolute = std::fs::canonicalize(&path).unwrap();
            writeln!(
                out,
                "    ({name:?}, include_str!({:?})),",
                absolute.display().to_string()
            )
            .unwrap();
        }
    }
    out.push_str("];\n");
}

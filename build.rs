//! Rebuild when a migration or check is added, removed or edited, and embed the data checks.
//! `embed_migrations!` reads the migration folders at compile time; the checks
//! (`migrations/<pipeline>/checks/*.sql`) are listed here into `$OUT_DIR/checks_<pipeline>.rs`,
//! which each pipeline includes as its `CHECKS`.

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    for pipeline in ["movies", "rollup"] {
        let mut out = String::from(
            "/// (check name, SQL) for every check built into the binary.\npub const CHECKS: &[(&str, &str)] = &[\n",
        );
        let dir = Path::new("migrations").join(pipeline).join("checks");
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
        let dest =
            Path::new(&std::env::var("OUT_DIR").unwrap()).join(format!("checks_{pipeline}.rs"));
        std::fs::write(dest, out).unwrap();
    }
}

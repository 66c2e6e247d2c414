//! `ioc token create|revoke`.

use anyhow::Context;
use clap::Subcommand;
use ioc_store::{Store, reference, tokens};

use crate::auth::{Role, generate_token, new_token};
use crate::config::Settings;

/// `ioc token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (only its hash is stored).
    Create {
        /// ingest, viewer, operator or admin.
        #[arg(long)]
        role: String,
        /// The source an ingest token writes as.
        #[arg(long)]
        source: Option<String>,
        /// Unit subtrees an ingest token may write, comma-separated codes.
        #[arg(long, value_delimiter = ',')]
        units: Vec<String>,
        /// A label to recognise the token by.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revoke a token by its id.
    Revoke {
        /// The id printed by `ioc token create`.
        id: i64,
    },
}

impl TokenCommand {
    /// Creates (and prints once) or revokes a token.
    pub async fn run(self, settings: &Settings, store: &Store) -> anyhow::Result<()> {
        match self {
            TokenCommand::Create {
                role,
                source,
                units,
                label,
            } => {
                let (token, id) =
                    create_token(settings, store, &role, source.as_deref(), &units, &label).await?;
                println!("{token}");
                eprintln!("token {id} ({role}) created; it is shown only this once");
                Ok(())
            }
            TokenCommand::Revoke { id } => {
                let now = chrono::Utc::now();
                if store.run(move |conn| tokens::revoke(conn, id, now)).await? {
                    println!("token {id} revoked");
                    Ok(())
                } else {
                    anyhow::bail!("no active token with id {id}")
                }
            }
        }
    }
}

/// Creates a token; returns the token and its id.
async fn create_token(
    settings: &Settings,
    store: &Store,
    role: &str,
    source: Option<&str>,
    units: &[String],
    label: &str,
) -> anyhow::Result<(String, i64)> {
    let role = Role::parse(role).map_err(anyhow::Error::msg)?;
    let levels = settings.units.levels.clone();
    let tree = store
        .run(move |conn| reference::unit_tree(conn, &levels))
        .await
        .context("cannot read the unit tree")?;
    let token =
        generate_token().map_err(|e| anyhow::anyhow!("no randomness for the token: {e}"))?;
    let new = new_token(role, source, units, label, &tree, &token).map_err(anyhow::Error::msg)?;
    let id = store
        .run(move |conn| tokens::create(conn, &new))
        .await
        .context("cannot store the token")?;
    Ok((token, id))
}

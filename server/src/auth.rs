//! Request authentication: imgflo's per-application key + token scheme (behaviour doc §2).
//!
//! `TOKEN = md5(graphspec + search + secret)` in lowercase hex, where `search` is `""` or `"?"` + the raw query
//! string exactly as sent. Keys come from environment variables and from the application database; the database
//! is read on every check, so `imgflo app ...` changes take effect without a restart.

use std::fmt;
use std::sync::Arc;

use md5::{Digest, Md5};

use crate::apps::{App, AppError, AppStore};

/// What a request needs: reading a cached result, causing processing, or bypassing the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Cache hit: only a valid token of an enabled app.
    Cache,
    /// Cache miss: also a processing quota > 0.
    Processing,
    /// `_nocache=true`: an admin app.
    Admin,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The request is not allowed; the reason is for logs only, never sent to clients.
    #[error("access denied: {0}")]
    Denied(&'static str),
    #[error(transparent)]
    Store(#[from] AppError),
}

/// The request token for `graphspec` + `search` signed with `secret`: md5 hex, lowercase.
pub fn token(graphspec: &str, search: &str, secret: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(graphspec.as_bytes());
    md5.update(search.as_bytes());
    md5.update(secret.as_bytes());
    hex::encode(md5.finalize())
}

/// Equality whose time depends only on the lengths, not on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Checks keys and tokens against the environment keys and the application database.
#[derive(Clone)]
pub struct Authenticator {
    store: AppStore,
    env_apps: Arc<[App]>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No secrets in logs.
        f.debug_struct("Authenticator").field("env_apps", &self.env_apps.len()).finish_non_exhaustive()
    }
}

impl Authenticator {
    pub fn new(store: AppStore, env_apps: Vec<App>) -> Authenticator {
        Authenticator { store, env_apps: env_apps.into() }
    }

    /// The keys given by environment variables: `IMGFLO_API_KEY`/`IMGFLO_API_SECRET` (normal) and
    /// `IMGFLO_ADMIN_KEY`/`IMGFLO_ADMIN_SECRET` (admin), both with quota 1. Empty values count as unset. As in
    /// the original, setting only one of a pair still creates an entry (and so turns authentication on), but an
    /// entry without a key or without a secret never authenticates anything.
    pub fn env_apps(vars: impl Fn(&str) -> Option<String>) -> Vec<App> {
        let var = |name: &str| vars(name).filter(|v| !v.is_empty());
        let mut apps = Vec::new();
        for (key_var, secret_var, admin) in
            [("IMGFLO_API_KEY", "IMGFLO_API_SECRET", false), ("IMGFLO_ADMIN_KEY", "IMGFLO_ADMIN_SECRET", true)]
        {
            let (key, secret) = (var(key_var), var(secret_var));
            if key.is_none() && secret.is_none() {
                continue;
            }
            apps.push(App {
                key: key.unwrap_or_default(),
                secret: secret.unwrap_or_default(),
                label: format!("{key_var} (environment)"),
                owner_email: String::new(),
                processing_quota: 1,
                enabled: true,
                admin,
                created_at: String::new(),
                updated_at: String::new(),
            });
        }
        apps
    }

    /// Whether authentication is on: any environment key or any database row.
    pub fn enabled(&self) -> Result<bool, AuthError> {
        Ok(!self.env_apps.is_empty() || self.store.count()? > 0)
    }

    /// Allows or denies a request (behaviour doc §2.3). The caller picks the scope: [`Scope::Cache`] for cache
    /// hits, [`Scope::Processing`] for misses, [`Scope::Admin`] when `_nocache=true`.
    pub fn check(
        &self,
        key: Option<&str>,
        token: Option<&str>,
        graphspec: &str,
        search: &str,
        scope: Scope,
    ) -> Result<(), AuthError> {
        let app = match key.filter(|k| !k.is_empty()) {
            // Database rows override environment keys with the same key.
            Some(k) => match self.store.get(k)? {
                Some(app) => Some(app),
                None => self.env_apps.iter().find(|a| a.key == k).cloned(),
            },
            None => None,
        };
        let Some(app) = app else {
            return if self.enabled()? { Err(AuthError::Denied("missing or unknown key")) } else { Ok(()) };
        };
        if app.secret.is_empty() {
            return Err(AuthError::Denied("application has no secret"));
        }
        if !app.enabled {
            return Err(AuthError::Denied("application disabled"));
        }
        if scope == Scope::Admin && !app.admin {
            return Err(AuthError::Denied("admin key required"));
        }
        if scope == Scope::Processing && app.processing_quota <= 0 {
            return Err(AuthError::Denied("no processing quota"));
        }
        let expected = self::token(graphspec, search, &app.secret);
        match token {
            Some(t) if constant_time_eq(expected.as_bytes(), t.as_bytes()) => Ok(()),
            Some(_) => Err(AuthError::Denied("wrong token")),
            None => Err(AuthError::Denied("missing token")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::test_dir;

    const ALL: [Scope; 3] = [Scope::Cache, Scope::Processing, Scope::Admin];

    fn denied(r: Result<(), AuthError>) -> bool {
        matches!(r, Err(AuthError::Denied(_)))
    }

    fn env_app(key: &str, secret: &str, admin: bool) -> App {
        let vars = |name: &str| match name {
            "IMGFLO_ADMIN_KEY" if admin => Some(key.to_string()),
            "IMGFLO_ADMIN_SECRET" if admin => Some(secret.to_string()),
            "IMGFLO_API_KEY" if !admin => Some(key.to_string()),
            "IMGFLO_API_SECRET" if !admin => Some(secret.to_string()),
            _ => None,
        };
        Authenticator::env_apps(vars).pop().unwrap()
    }

    #[test]
    fn token_known_values() {
        // printf 'crop.jpg?x=1s' | md5sum
        assert_eq!(token("crop.jpg", "?x=1", "s"), "9f0cf459ead62f943a024ded0abd3e39");
        // printf 'passthrough.jpeg?a=b&c=d%%20esecret' | md5sum
        assert_eq!(token("passthrough.jpeg", "?a=b&c=d%20e", "secret"), "3bbf14dec6e7355be8ee35f71b137bb1");
        // The pieces are concatenated, so only the whole string matters.
        assert_eq!(token("crop.jpg?x=1", "", "s"), token("crop.jpg", "?x=1", "s"));
        assert_ne!(token("crop.jpg", "?x=2", "s"), token("crop.jpg", "?x=1", "s"));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"Abc", b"abc"));
    }

    #[test]
    fn env_apps_from_variables() {
        assert!(Authenticator::env_apps(|_| None).is_empty());
        assert!(Authenticator::env_apps(|_| Some(String::new())).is_empty());
        let apps = Authenticator::env_apps(|name| Some(format!("{name}-value")));
        assert_eq!(apps.len(), 2);
        assert_eq!(
            (apps[0].key.as_str(), apps[0].secret.as_str()),
            ("IMGFLO_API_KEY-value", "IMGFLO_API_SECRET-value")
        );
        assert!(!apps[0].admin && apps[0].enabled && apps[0].processing_quota == 1);
        assert_eq!(apps[1].key, "IMGFLO_ADMIN_KEY-value");
        assert!(apps[1].admin && apps[1].enabled && apps[1].processing_quota == 1);
        // Only a secret: an entry (auth on) that can never match.
        let apps = Authenticator::env_apps(|name| (name == "IMGFLO_API_SECRET").then(|| "s".to_string()));
        assert_eq!(apps.len(), 1);
        let auth = Authenticator::new(AppStore::open_in_memory().unwrap(), apps);
        assert!(auth.enabled().unwrap());
        assert!(denied(auth.check(Some(""), Some(&token("g.png", "", "s")), "g.png", "", Scope::Cache)));
        // Only a key: no secret, never allowed.
        let apps = Authenticator::env_apps(|name| (name == "IMGFLO_API_KEY").then(|| "k".to_string()));
        let auth = Authenticator::new(AppStore::open_in_memory().unwrap(), apps);
        assert!(denied(auth.check(Some("k"), Some(&token("g.png", "", "")), "g.png", "", Scope::Cache)));
    }

    #[test]
    fn disabled_auth_allows_everything() {
        let auth = Authenticator::new(AppStore::open_in_memory().unwrap(), vec![]);
        assert!(!auth.enabled().unwrap());
        for scope in ALL {
            auth.check(None, None, "g.png", "", scope).unwrap();
            auth.check(Some("whatever"), Some("garbage"), "g.png", "?a=1", scope).unwrap();
        }
    }

    #[test]
    fn database_apps() {
        let store = AppStore::open_in_memory().unwrap();
        let auth = Authenticator::new(store.clone(), vec![]);
        let app = store.add("a@b", "normal", 1, false).unwrap();
        let admin = store.add("a@b", "admin", 1, true).unwrap();
        assert!(auth.enabled().unwrap());
        let (g, q) = ("crop.jpg", "?width=10&height=5");
        let good = token(g, q, &app.secret);
        for scope in [Scope::Cache, Scope::Processing] {
            auth.check(Some(&app.key), Some(&good), g, q, scope).unwrap();
        }
        // Admin scope: normal key denied, admin key allowed.
        assert!(denied(auth.check(Some(&app.key), Some(&good), g, q, Scope::Admin)));
        auth.check(Some(&admin.key), Some(&token(g, q, &admin.secret)), g, q, Scope::Admin).unwrap();
        for scope in ALL {
            // No key, unknown key.
            assert!(denied(auth.check(None, None, g, q, scope)));
            assert!(denied(auth.check(None, Some(&good), g, q, scope)));
            assert!(denied(auth.check(Some("unknown"), Some(&good), g, q, scope)));
            // Wrong secret, missing token, other graph or query, uppercase hex.
            let s = &admin.key;
            assert!(denied(auth.check(Some(s), Some(&token(g, q, "wrong")), g, q, scope)));
            assert!(denied(auth.check(Some(s), None, g, q, scope)));
            let admin_good = token(g, q, &admin.secret);
            assert!(denied(auth.check(Some(s), Some(&admin_good), "other.jpg", q, scope)));
            assert!(denied(auth.check(Some(s), Some(&admin_good), g, "?height=5&width=10", scope)));
            assert!(denied(auth.check(Some(s), Some(&admin_good.to_uppercase()), g, q, scope)));
        }
    }

    #[test]
    fn quota_zero_allows_cache_only() {
        let store = AppStore::open_in_memory().unwrap();
        let app = store.add("a@b", "no quota", 0, false).unwrap();
        let auth = Authenticator::new(store, vec![]);
        let t = token("g.png", "", &app.secret);
        auth.check(Some(&app.key), Some(&t), "g.png", "", Scope::Cache).unwrap();
        assert!(denied(auth.check(Some(&app.key), Some(&t), "g.png", "", Scope::Processing)));
    }

    #[test]
    fn disabled_app_denied_for_every_scope() {
        let store = AppStore::open_in_memory().unwrap();
        let app = store.add("a@b", "off", 5, true).unwrap();
        store.set(&app.key, Some(false), None).unwrap();
        let auth = Authenticator::new(store.clone(), vec![]);
        let t = token("g.png", "?x=1", &app.secret);
        for scope in ALL {
            assert!(denied(auth.check(Some(&app.key), Some(&t), "g.png", "?x=1", scope)), "{scope:?}");
        }
        // Auth stays on while the only app is disabled.
        assert!(denied(auth.check(None, None, "g.png", "", Scope::Cache)));
        store.set(&app.key, Some(true), None).unwrap();
        for scope in ALL {
            auth.check(Some(&app.key), Some(&t), "g.png", "?x=1", scope).unwrap();
        }
    }

    #[test]
    fn env_apps_and_db_precedence() {
        let store = AppStore::open_in_memory().unwrap();
        let auth = Authenticator::new(store.clone(), vec![env_app("envkey", "envsecret", false)]);
        assert!(auth.enabled().unwrap());
        let t = token("g.png", "", "envsecret");
        auth.check(Some("envkey"), Some(&t), "g.png", "", Scope::Processing).unwrap();
        assert!(denied(auth.check(Some("envkey"), Some(&t), "g.png", "", Scope::Admin)));
        assert!(denied(auth.check(None, None, "g.png", "", Scope::Cache)));

        // Env admin key.
        let db_app = store.add("a@b", "db", 1, false).unwrap();
        let auth = Authenticator::new(store.clone(), vec![env_app(&db_app.key, "envsecret", true)]);
        // The DB row with the same key wins: its secret, its (non-)admin flag.
        let env_token = token("g.png", "", "envsecret");
        let db_token = token("g.png", "", &db_app.secret);
        assert!(denied(auth.check(Some(&db_app.key), Some(&env_token), "g.png", "", Scope::Cache)));
        auth.check(Some(&db_app.key), Some(&db_token), "g.png", "", Scope::Processing).unwrap();
        assert!(denied(auth.check(Some(&db_app.key), Some(&db_token), "g.png", "", Scope::Admin)));
        // Removing the row brings the env admin key back.
        store.remove(&db_app.key).unwrap();
        auth.check(Some(&db_app.key), Some(&env_token), "g.png", "", Scope::Admin).unwrap();
        assert!(denied(auth.check(Some(&db_app.key), Some(&db_token), "g.png", "", Scope::Cache)));
    }

    #[test]
    fn sees_changes_from_another_store_on_the_same_file() {
        let dir = test_dir("auth");
        let path = dir.join("imgflo.db");
        let auth = Authenticator::new(AppStore::open(&path).unwrap(), vec![]);
        assert!(!auth.enabled().unwrap());
        // What `imgflo app add` does, from its own connection.
        let cli = AppStore::open(&path).unwrap();
        let app = cli.add("a@b", "cli", 1, false).unwrap();
        assert!(auth.enabled().unwrap());
        let t = token("g.png", "", &app.secret);
        auth.check(Some(&app.key), Some(&t), "g.png", "", Scope::Processing).unwrap();
        cli.set(&app.key, None, Some(0)).unwrap();
        assert!(denied(auth.check(Some(&app.key), Some(&t), "g.png", "", Scope::Processing)));
        cli.set(&app.key, Some(false), None).unwrap();
        assert!(denied(auth.check(Some(&app.key), Some(&t), "g.png", "", Scope::Cache)));
        assert!(cli.remove(&app.key).unwrap());
        assert!(!auth.enabled().unwrap());
        auth.check(Some(&app.key), Some("garbage"), "g.png", "", Scope::Admin).unwrap();
        drop((auth, cli));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

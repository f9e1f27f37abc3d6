//! Reading the store, and the PostgreSQL database made for each run.

use super::*;

/// Every stored character, and the number of accounts.
pub(super) async fn read_store(url: &str) -> Result<(Vec<CharacterRecord>, Option<i64>), String> {
    let store = Store::open(url)
        .await
        .map_err(|e| format!("cannot open the store: {e}"))?;
    let characters = store.characters().await;
    store.close().await;
    let characters = characters.map_err(|e| format!("cannot read the characters: {e:?}"))?;
    // The accounts, counted by SQL: the store has no call that lists them.
    let accounts = async {
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await?;
        let n = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM accounts")
            .fetch_one(&pool)
            .await;
        pool.close().await;
        n
    }
    .await;
    let accounts = match accounts {
        Ok(n) => Some(n),
        Err(e) => {
            eprintln!("crash: cannot count the accounts: {e}");
            None
        }
    };
    Ok((characters, accounts))
}

pub(super) async fn create_database(server: &str, name: &str) -> Result<(), String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(server)
        .await
        .map_err(|e| format!("cannot reach PostgreSQL (MMO_TEST_POSTGRES_URL): {e}"))?;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut conn)
        .await
        .map_err(|e| format!("cannot drop database {name}: {e}"))?;
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .map_err(|e| format!("cannot create database {name}: {e}"))?;
    let _ = conn.close().await;
    Ok(())
}

pub(super) async fn drop_database(server: &str, name: &str) -> Result<(), String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(server)
        .await
        .map_err(|e| e.to_string())?;
    // WITH (FORCE): a connection the killed server left half-open must not
    // keep the database alive.
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let _ = conn.close().await;
    Ok(())
}

/// `url` with its database (the path) replaced by `name`, keeping the query.
pub(super) fn with_database(url: &str, name: &str) -> Result<String, String> {
    let scheme_end = url.find("://").ok_or_else(|| format!("not a URL: {url}"))? + 3;
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let host_end = head[scheme_end..]
        .find('/')
        .map_or(head.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &head[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

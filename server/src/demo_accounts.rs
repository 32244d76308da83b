//! Demo accounts: in demo mode the console creates one user of each role with a random
//! password and prints the credentials once, when it creates them. The production
//! profile never creates any.

use app::auth::password;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tsdb::audit::Actor;
use tsdb::types::Role;
use tsdb::users::NewUser;

/// One demo account just created, with its password.
pub struct Created {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// The password, shown once.
    pub password: String,
}

fn random_password() -> Result<String, String> {
    let mut bytes = [0u8; 18];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no random source: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Creates the missing demo accounts (`viewer`, `operator`, `admin`); returns those it
/// created. Existing accounts keep their passwords.
pub async fn ensure(pool: &sqlx::PgPool) -> Result<Vec<Created>, String> {
    let mut created = Vec::new();
    for role in Role::ALL {
        let username = role.as_str();
        let exists = tsdb::users::find_by_username(pool, username)
            .await
            .map_err(|e| e.to_string())?
            .is_some();
        if exists {
            continue;
        }
        let password = random_password()?;
        let hash = password::hash(&password).map_err(|e| e.to_string())?;
        tsdb::users::create(
            pool,
            &Actor::System,
            Some("demo mode"),
            NewUser {
                username,
                role,
                password_hash: &hash,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        created.push(Created {
            username: username.to_string(),
            role,
            password,
        });
    }
    Ok(created)
}

/// Prints newly created demo credentials to standard output, once.
pub fn print(created: &[Created]) {
    if created.is_empty() {
        return;
    }
    let mut text = String::from(
        "\n  Demo accounts created (shown this once; change them under \"My account\"):\n",
    );
    for user in created {
        text.push_str(&format!(
            "    {:<9} user {:<9} password {}\n",
            user.role.as_str(),
            user.username,
            user.password
        ));
    }
    println!("{text}");
}

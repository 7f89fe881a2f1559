//! The directory service account's password, from AWS Secrets Manager: read at each run, so a rotated password
//! is picked up without a redeploy.

use serde_json::Value;
use wsdr_ldap::Password;

use crate::error::AwsError;

/// Secrets Manager, read-only.
#[derive(Clone, Debug)]
pub struct SecretsApi {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsApi {
    /// The adapter on `client`.
    pub fn new(client: aws_sdk_secretsmanager::Client) -> SecretsApi {
        SecretsApi { client }
    }

    /// The password in secret `secret_id` (a name or an ARN): the secret string itself, or its `password` field
    /// when it is a JSON object (the shape Secrets Manager's rotation templates write).
    pub async fn password(&self, secret_id: &str) -> Result<Password, AwsError> {
        const OPERATION: &str = "secretsmanager:GetSecretValue";
        let output = self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|error| crate::error::from_sdk(OPERATION, error))?;
        let Some(text) = output.secret_string() else {
            return Err(AwsError::rejected(
                OPERATION,
                format!("{secret_id} holds binary data, not a password string"),
            ));
        };
        password_of(text)
            .map_err(|reason| AwsError::rejected(OPERATION, format!("{secret_id}: {reason}")))
    }
}

/// The password in a secret string.
fn password_of(text: &str) -> Result<Password, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(fields)) => match fields.get("password") {
            Some(Value::String(password)) => Ok(Password::new(password.as_str())),
            Some(_) => Err("its \"password\" field is not a string".to_owned()),
            None => Err("a JSON secret without a \"password\" field".to_owned()),
        },
        _ => Ok(Password::new(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_json_secrets() {
        assert_eq!(password_of("hunter2").unwrap().expose(), "hunter2");
        assert_eq!(
            password_of(r#"{"username":"svc-wsdr","password":"p\"w"}"#).unwrap().expose(),
            "p\"w"
        );
        // A password that happens to be valid JSON but not an object is a password.
        assert_eq!(password_of("12345").unwrap().expose(), "12345");
        assert_eq!(
            password_of(r#"{"user":"x"}"#).unwrap_err(),
            "a JSON secret without a \"password\" field"
        );
        assert_eq!(
            password_of(r#"{"password":1}"#).unwrap_err(),
            "its \"password\" field is not a string"
        );
    }
}

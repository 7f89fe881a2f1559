//! The reconcile Lambda function (see `wsdr_lambda::reconcile`).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    wsdr_lambda::reconcile::main().await
}

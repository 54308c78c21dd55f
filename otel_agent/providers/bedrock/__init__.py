"""AWS Bedrock Runtime through botocore (boto3): Converse, ConverseStream, InvokeModel(WithResponseStream)."""

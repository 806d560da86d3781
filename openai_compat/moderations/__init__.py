"""`/v1/moderations` on Llama Guard 3: one verdict per input, mapped to OpenAI's categories."""

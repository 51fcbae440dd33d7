#!/usr/bin/env python3
"""An LLM as a claimwire system, through the ``command`` adapter.

    claimwire run command --option cmd="python examples/llm_command.py" \\
        --env LLM_BASE_URL --env LLM_MODEL [--env LLM_API_KEY] \\
        --release corpus/releases/1.0.0 --out runs/llm.jsonl
    claimwire eval score runs/llm.jsonl --task claims

It reads documents (JSONL) on stdin, asks an OpenAI-compatible chat endpoint for the check-
worthy claims of each sentence, and writes CLAIM annotations (JSONL) on stdout, with exact
offsets found by searching the model's quotes in the sentence (a quote the model invented is
dropped). Settings come from the environment (the program sees only the variables named
with ``--env``):

    LLM_BASE_URL   e.g. http://127.0.0.1:8000/v1 (a local server: vLLM, llama.cpp, Ollama…)
    LLM_MODEL      the model name the server expects
    LLM_API_KEY    optional bearer token

Only the standard library is used. Nothing is sent anywhere but LLM_BASE_URL.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

PROMPT = (
    "Tu annotes des communiqués de presse. Renvoie en JSON une liste d'objets "
    '{"quote": "...", "claim_type": "quantity|correlation_causation|laws_rules|prediction|'
    'personal_experience|other"} pour chaque affirmation factuelle vérifiable de la phrase, '
    "en citant le texte exact. Renvoie [] s'il n'y en a pas.\n\nPhrase : "
)


def ask(sentence: str) -> list[dict]:
    body = json.dumps({
        "model": os.environ["LLM_MODEL"],
        "messages": [{"role": "user", "content": PROMPT + sentence}],
        "temperature": 0,
    }).encode()
    request = urllib.request.Request(
        os.environ["LLM_BASE_URL"].rstrip("/") + "/chat/completions", data=body,
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {os.environ['LLM_API_KEY']}"}
                    if os.environ.get("LLM_API_KEY") else {})},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        content = json.load(response)["choices"][0]["message"]["content"]
    try:
        answer = json.loads(content[content.find("["): content.rfind("]") + 1])
    except ValueError:
        return []
    return [a for a in answer if isinstance(a, dict) and isinstance(a.get("quote"), str)]


def main() -> None:
    for line in sys.stdin:
        document = json.loads(line)
        text, n = document["text"], 0
        for start, end in document["sentences"]:
            for claim in ask(text[start:end]):
                at = text.find(claim["quote"], start, end)
                if at < 0 or not claim["quote"]:
                    continue
                n += 1
                print(json.dumps({
                    "id": f"{document['id']}:llm-{n}", "doc_id": document["id"],
                    "layer": "claims", "label": "CLAIM",
                    "start": at, "end": at + len(claim["quote"]),
                    "attributes": {
                        "claim_type": claim.get("claim_type", "other"), "checkworthy": True,
                    },
                    "author": os.environ["LLM_MODEL"],
                }, ensure_ascii=False))


if __name__ == "__main__":
    main()

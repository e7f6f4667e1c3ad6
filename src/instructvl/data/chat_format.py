"""Per-turn rendering of structured conversations into text segments, each marked as a
training target or not. Uses the tokenizer's chat template when it has one (a message's
segment is what rendering it adds to the rendering of the turns before it), else the
model config's `prompt_format`. Never re-tokenises a rendered string with offsets."""

from __future__ import annotations

from dataclasses import dataclass

from instructvl.data.schema import Turn
from instructvl.errors import InstructVLError


@dataclass(frozen=True)
class Segment:
    """A piece of rendered text; `target` pieces are the assistant's words the LM learns."""

    text: str
    target: bool


class ChatFormatter:
    """Turns [Turn] into [Segment] for one tokenizer; `seq2seq` models get the prompt turns
    for the encoder and the final answer (plus EOS) as the decoder's target.

    `use_chat_template=False` ignores the tokenizer's template; `add_bos=False` leaves the
    BOS to the tokenizer (processor-style tokenisation adds it itself)."""

    def __init__(
        self,
        tokenizer,
        prompt_format: dict[str, str],
        system_prompt: str | None,
        seq2seq: bool,
        use_chat_template: bool = True,
        add_bos: bool = True,
    ) -> None:
        self.tokenizer = tokenizer
        self.seq2seq = seq2seq
        self.system_prompt = system_prompt
        self.add_bos = add_bos
        self.use_template = use_chat_template and bool(getattr(tokenizer, "chat_template", None)) and not seq2seq
        self.prompt_format = prompt_format
        missing = {"user", "assistant"} - set(prompt_format)
        if missing:
            raise InstructVLError(f"llm.prompt_format lacks {sorted(missing)}: it needs user and assistant entries")

    def _messages(self, turns: list[Turn]) -> list[dict]:
        msgs = [{"role": t.role, "content": t.content} for t in turns]
        if self.system_prompt and (not turns or turns[0].role != "system"):
            msgs.insert(0, {"role": "system", "content": self.system_prompt})
        return msgs

    def _render(self, turns: list[Turn], generation_prompt: bool = False) -> str:
        if not turns and not generation_prompt:
            return ""
        return self.tokenizer.apply_chat_template(
            self._messages(turns), tokenize=False, add_generation_prompt=generation_prompt
        )

    def _format(self, role: str, content: str) -> str:
        fmt = self.prompt_format.get(role, "{content}\n")
        return fmt.format(content=content, eos=self.tokenizer.eos_token or "")

    def _assistant_header(self) -> str:
        """The assistant format's text before the answer, without trailing spaces: a space
        belongs to the answer's first token in most tokenizers (" red", not " " + "red")."""
        return self.prompt_format["assistant"].split("{content}")[0].rstrip(" ")

    def _adds_bos(self) -> bool:
        tok = self.tokenizer
        return tok.bos_token_id is not None and tok("a").input_ids[:1] == [tok.bos_token_id]

    def segments(self, turns: list[Turn]) -> list[Segment]:
        """Text segments of the whole conversation; assistant contents (with their end
        marker) are targets, everything else (system, user, role headers) is not."""
        if self.use_template:
            return self._template_segments(turns)
        out: list[Segment] = []
        if not self.seq2seq and self.add_bos and self._adds_bos():
            out.append(Segment(self.tokenizer.bos_token, False))
        if self.system_prompt and (not turns or turns[0].role != "system"):
            out.append(Segment(self._format("system", self.system_prompt), False))
        for turn in turns:
            if turn.role != "assistant":
                out.append(Segment(self._format(turn.role, turn.content), False))
                continue
            header = self._assistant_header()
            body = self._format("assistant", turn.content)[len(header) :]
            if header:
                out.append(Segment(header, False))
            out.append(Segment(body, True))
        return out

    def _template_segments(self, turns: list[Turn]) -> list[Segment]:
        out: list[Segment] = []
        before = ""
        for i, turn in enumerate(turns):
            rendered = self._render(turns[: i + 1])
            if not rendered.startswith(before):
                raise InstructVLError(
                    "the tokenizer's chat template is not prefix-stable (rendering a conversation does not "
                    "extend the rendering of its first turns); set llm.prompt_format and use no template"
                )
            piece = rendered[len(before) :]
            if turn.role == "assistant":
                header = self._render(turns[:i], generation_prompt=True)[len(before) :]
                if not piece.startswith(header):
                    raise InstructVLError("chat template: an assistant turn does not start with the generation prompt")
                if header:
                    out.append(Segment(header, False))
                out.append(Segment(piece[len(header) :], True))
            else:
                out.append(Segment(piece, False))
            before = rendered
        return out

    def prompt_segments(self, turns: list[Turn]) -> list[Segment]:
        """The prompt for generation or ranking: the turns, then the assistant's header."""
        segs = self.segments(turns)
        if self.seq2seq:
            return segs
        if self.use_template:
            rendered = self._render(turns)
            header = self._render(turns, generation_prompt=True)[len(rendered) :]
        else:
            header = self._assistant_header()
        return segs + ([Segment(header, False)] if header else [])

    def answer_ids(self, answer: str) -> list[int]:
        """Token ids of an assistant answer as it is trained (with its end marker, or EOS
        for seq2seq): what a candidate answer is scored as."""
        if self.seq2seq:
            return self.tokenizer(answer).input_ids
        segs = self.segments([Turn("user", "?"), Turn("assistant", answer)])
        text = "".join(s.text for s in segs if s.target)
        return self.tokenizer(text, add_special_tokens=False).input_ids

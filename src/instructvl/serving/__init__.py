"""`instructvl serve`: an OpenAI-compatible chat-completions API and a web demo for any
model instructvl loads, bounded (body, images, tokens, queue, time) and batched.

One concept per module: `settings` (the bounds), `errors` (OpenAI-shaped JSON errors),
`protocol` (requests in, replies and stream chunks out), `images` (untrusted image
input), `answer` (an answer's text as its tokens arrive: stop strings, stream deltas),
`sampling` (greedy or sampled, per request), `jobs` (a request made ready for the
model), `continuous` (rows joining and leaving a batch between tokens), `engine` (the
queue and the worker), `app` (the HTTP routes), `server` (uvicorn around it), and
`static/demo.html` (the web demo)."""

"""WebSocket receiver for ACS media streaming and transcription: stores transcripts, counts audio, feeds a hook.

Azure Functions cannot hold WebSockets open, so this small aiohttp service runs beside the function app
(`python -m receiver`); see docs/recording.md.
"""

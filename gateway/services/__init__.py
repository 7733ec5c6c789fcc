"""The service layer shared by every surface: identify, retrieve, transcode, translate, audit."""

import pytest


@pytest.fixture
def printed(celery_eager, django_capture_on_commit_callbacks):
    """`with printed(): …` runs what the block queued after commit (the PDF rendering task,
    in Celery's eager mode) when the block ends, as a real commit and worker would."""

    def block():
        return django_capture_on_commit_callbacks(execute=True)

    return block

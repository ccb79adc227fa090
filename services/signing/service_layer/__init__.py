"""Use cases of the signing service: person, number fill, organisation, attachments."""

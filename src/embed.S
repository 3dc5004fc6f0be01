/* Files compiled into the binary: the field catalogue and the OpenAPI document. */
	.section .rodata
	.global amparo_catalogue_json, amparo_catalogue_json_end
	.balign 16
amparo_catalogue_json:
	.incbin "schema/catalogue.json"
amparo_catalogue_json_end:
	.byte 0
	.global amparo_openapi_yaml, amparo_openapi_yaml_end
	.balign 16
amparo_openapi_yaml:
	.incbin "docs/openapi.yaml"
amparo_openapi_yaml_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits

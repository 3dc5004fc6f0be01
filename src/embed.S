/* Files compiled into the binary: the field catalogue, the OpenAPI document and
 * the referral module's picklists and default settings (schema/referrals.json),
 * the care picklists and reintegration indicators. */
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
	.global amparo_referrals_json, amparo_referrals_json_end
	.balign 16
amparo_referrals_json:
	.incbin "schema/referrals.json"
amparo_referrals_json_end:
	.byte 0
	.global amparo_care_picklists_json, amparo_care_picklists_json_end
	.balign 16
amparo_care_picklists_json:
	.incbin "schema/care-picklists.json"
amparo_care_picklists_json_end:
	.byte 0
	.global amparo_care_config_json, amparo_care_config_json_end
	.balign 16
amparo_care_config_json:
	.incbin "schema/reintegration-indicators.json"
amparo_care_config_json_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
